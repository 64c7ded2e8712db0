#!/usr/bin/env node
// Adds native source files to a group of native/sources.json (the one list that
// binding.gyp and CMake both read), keeping the file's layout.
//   node scripts/add-source.js <group> <path> [<path> ...]
// Groups: core (plain C/C++ of the core), avx2, avx512 (compiled with those
// flags, x86-64 only), neon, neon_dotprod (aarch64 only; the latter with
// -march=armv8.2-a+dotprod), addon (the Node binding), tests (native unit tests).
'use strict';
const fs = require('fs');
const path = require('path');
const file = path.join(__dirname, '..', 'native', 'sources.json');
const [group, ...paths] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(file, 'utf8'));
if (!group || !Array.isArray(data[group]) || paths.length === 0) {
  process.stderr.write('usage: node scripts/add-source.js <core|avx2|avx512|neon|neon_dotprod|addon|tests> <path>...\n');
  process.exit(1);
}
for (const p of paths) {
  if (!fs.existsSync(path.join(__dirname, '..', p))) {
    process.stderr.write(`add-source: ${p} does not exist\n`);
    process.exit(1);
  }
  if (!data[group].includes(p)) data[group].push(p);
}
const tmp = file + '.tmp' + process.pid;
fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
fs.renameSync(tmp, file);
