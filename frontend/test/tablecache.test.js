// The browser's fixed-base table in pieces (frontend/src/shortbase.js, tablecache.js): rows built
// in parallel ranges equal the whole table, survive the byte form, and the checks a cached table
// must pass catch a wrong row.  Node has no IndexedDB: the cache reports 'unavailable' and
// stores nothing (the workers then build the table).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  buildRows, bytesToRows, entryBytes, FixedBaseTable, rowsToBytes, shortBase, tableBits, tableRows,
} from '../src/shortbase.js';
import { checkRows, loadTable, storeTable } from '../src/tablecache.js';

const VECTORS = JSON.parse(readFileSync(new URL('../../tests/vectors/ballots.json', import.meta.url), 'utf8'));
const n = BigInt('0x' + VECTORS.vectors[0].n);
const n2 = n * n;

test('rows built in two ranges equal the whole table and survive the byte form', async () => {
  const hs = await shortBase(n);
  const count = tableRows(n);
  const whole = new FixedBaseTable(hs, n2, tableBits(n));
  const half = Math.floor(count / 2);
  const rows = [...buildRows(hs, n2, 0, half), ...buildRows(hs, n2, half, count)];
  assert.deepEqual(rows, whole.rows);
  const size = entryBytes(n2);
  const back = [...bytesToRows(rowsToBytes(rows.slice(0, half), size), size, half),
    ...bytesToRows(rowsToBytes(rows.slice(half), size), size, count - half)];
  assert.deepEqual(back, whole.rows);
  const e = (1n << BigInt(tableBits(n) - 3)) + 12345n;
  assert.equal(new FixedBaseTable(hs, n2, tableBits(n), back).power(e), whole.power(e));
  assert.throws(() => bytesToRows(rowsToBytes(rows, size).subarray(1), size, count), /wrong length/);
  const bad = rowsToBytes(rows, size);
  bad[7] = 0x7a; // 'z'
  assert.throws(() => bytesToRows(bad, size, count), /not hex/);
});

test('the checks of a cached table catch a wrong base, a wrong row start and a wrong entry', async () => {
  const hs = await shortBase(n);
  const rows = new FixedBaseTable(hs, n2, tableBits(n)).rows;
  assert.equal(checkRows(rows, hs, n2), null);
  assert.match(checkRows(rows, (hs * hs) % n2, n2), /row 0/);
  const shifted = rows.map((r) => r.slice());
  shifted[3][1] = (shifted[3][1] * hs) % n2;
  assert.match(checkRows(shifted, hs, n2), /row 3 does not follow row 2/);
  // every inner entry wrong (row starts and ends intact): the random spot checks find one
  const wrong = rows.map((r) => r.slice());
  for (let t = 0; t < wrong.length; t++) for (let d = 2; d < 255; d++) wrong[t][d] += 1n;
  assert.match(checkRows(wrong, hs, n2), /entry \d+ of row \d+ is wrong/);
});

test('without IndexedDB the cache is unavailable and stores nothing', async () => {
  const hs = await shortBase(n);
  const got = await loadTable(n, hs, tableBits(n), entryBytes(n2));
  assert.deepEqual(got, { table: null, reason: 'unavailable' });
  assert.equal(await storeTable(n, hs, tableBits(n), entryBytes(n2), new Uint8Array(8)), false);
});
