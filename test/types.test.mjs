// The public types as TypeScript users see them, under each module resolution
// the package supports: node16 (test/tsconfig.json), nodenext and bundler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root } from './support/child.mjs';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

for (const config of ['tsconfig.json', 'tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
  test(`test/types type-checks with test/${config}`, { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'test', config)], { cwd: root, encoding: 'utf8' });
    assert.equal(r.stdout + r.stderr, '');
    assert.equal(r.status, 0);
  });
}
