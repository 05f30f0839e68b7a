'use strict';
// Prints the C files of the families registered in src/native/butter.h
// (BUTTER_FAMILIES), for binding.gyp: a family is compiled because it is in
// the registry, with no list of its own to keep in step.
const fs = require('node:fs');
const path = require('node:path');

const header = fs.readFileSync(path.join(__dirname, '..', 'src', 'native', 'butter.h'), 'utf8');
const registry = /#define BUTTER_FAMILIES\(X\)((?:[^\n]*\\\n)*[^\n]*)/.exec(header);
if (!registry) throw new Error('src/native/butter.h: no BUTTER_FAMILIES registry');
const names = [...registry[1].matchAll(/X\((\w+)\)/g)].map((m) => m[1]);
console.log(names.map((n) => `src/native/${n}.c`).join(' '));
