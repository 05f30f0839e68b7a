// The family registry: the C side (BUTTER_FAMILIES, each family's binding and
// constants table) and the TypeScript side (each family's binding type, its
// public names, its doctor check) agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { root } from './support/child.mjs';

const require = createRequire(import.meta.url);
const release = join(root, 'build', 'Release', 'butter.node');
const addon = require(existsSync(release) ? release : join(root, 'build', 'Debug', 'butter.node'));

/** The `Families` interface as the compiler sees it: family -> { functions, constants } property names. */
function typedFamilies() {
  const program = ts.createProgram([join(root, 'src', 'index.ts')], { strict: true, types: ['node'], target: ts.ScriptTarget.ES2022 });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(join(root, 'src', 'core', 'native.ts'));
  const families = file.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === 'Families');
  const out = {};
  for (const family of checker.getPropertiesOfType(checker.getTypeAtLocation(families.name))) {
    const binding = checker.getTypeOfSymbolAtLocation(family, families);
    const names = checker.getPropertiesOfType(binding).map((p) => p.name);
    const constants = binding.getProperty('constants');
    out[family.name] = {
      functions: names.filter((n) => n !== 'constants').sort(),
      constants: constants ? checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(constants, families)).map((p) => p.name).sort() : [],
    };
  }
  return out;
}

test('every family in the C registry has a binding of its own, typed beside the family with exactly its functions and constants', () => {
  const typed = typedFamilies();
  assert.deepEqual(Object.keys(typed).sort(), [...addon.families].sort());
  for (const name of addon.families) {
    const binding = addon[name];
    const functions = Object.keys(binding).filter((k) => typeof binding[k] === 'function').sort();
    const constants = Object.keys(binding.constants ?? {}).sort();
    assert.deepEqual(typed[name].functions, functions, `${name}: functions`);
    assert.deepEqual(typed[name].constants, constants, `${name}: constants`);
    for (const c of constants) assert.equal(typeof binding.constants[c], 'number', `${name}: ${c}`);
  }
});

test('constants is every family\'s constants, once', () => {
  const { constants } = require('butter');
  const merged = {};
  for (const name of addon.families) {
    for (const [k, v] of Object.entries(addon[name].constants ?? {})) {
      // A constant two families share (O_CLOEXEC) must mean the same.
      if (k in merged) assert.equal(merged[k], v, k);
      merged[k] = v;
    }
  }
  assert.deepEqual({ ...constants }, merged);
});

test('every family of src/index.ts has its public names module and a doctor check', () => {
  const families = JSON.parse(readFileSync(join(root, 'dist', 'cjs', 'families.json'), 'utf8'));
  assert.deepEqual(families, ['process', 'host', 'eventfd', 'timerfd', 'signals', 'inotify', 'fanotify', 'splice', 'mount', 'namespaces', 'sandbox', 'seccomp', 'seccomp-notify', 'io-uring', 'aio']);
  for (const name of families) {
    assert.ok(existsSync(join(root, 'src', 'families', `${name}.ts`)), name);
    assert.equal(typeof require(join(root, 'dist', 'cjs', 'cli', 'doctor', `${name}.js`)).check, 'function', name);
  }
});
