// The browser's fixed-base table in pieces (frontend/src/shortbase.js, tablecache.js): rows built
// in parallel ranges equal the whole table, survive the byte form, and the checks a cached table
// must pass catch a wrong row.  Node has no IndexedDB: the cache reports 'unavailable' and
// stores nothing (the workers then build the table).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { modInverse, modPow } from '../src/bigint.js';
import {
  buildRows, bytesToRows, combinePartials, entryBytes, FixedBaseTable, rowRanges, rowsToBytes, rowStart, shortBase,
  tableBits, tableRows,
} from '../src/shortbase.js';
import { checkRows, loadRows, storeRows } from '../src/tablecache.js';

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

test('a range is checked against its own start: h_s^(2^(8·r0))', async () => {
  const hs = await shortBase(n);
  const r0 = 70;
  const start = rowStart(hs, n2, r0);
  assert.equal(start, modPow(hs, 1n << BigInt(8 * r0), n2));
  const rows = buildRows(hs, n2, r0, r0 + 6);
  assert.deepEqual(buildRows(start, n2, 0, 6), rows); // built from its start, as a worker does
  assert.equal(checkRows(rows, start, n2, r0), null);
  assert.match(checkRows(rows, hs, n2, r0), /row 70 does not start/);
  const shifted = rows.map((r) => r.slice());
  shifted[2][1] = (shifted[2][1] * hs) % n2;
  assert.match(checkRows(shifted, start, n2, r0), /row 72 does not follow row 71/);
});

test('without IndexedDB the cache is unavailable and stores nothing', async () => {
  const hs = await shortBase(n);
  const got = await loadRows(n, hs, tableBits(n), entryBytes(n2), 0, 10, hs);
  assert.deepEqual(got, { rows: null, reason: 'unavailable' });
  assert.equal(await storeRows(n, hs, tableBits(n), entryBytes(n2), 0, 10, new Uint8Array(8)), false);
});

test('row ranges cover the table once, for any worker count', () => {
  const count = tableRows(n);
  for (const parts of [1, 2, 3, 4, 7, 64, 200]) {
    const ranges = rowRanges(n, parts);
    assert.equal(ranges.length, parts);
    assert.equal(ranges[0][0], 0);
    assert.equal(ranges[parts - 1][1], count);
    for (let k = 1; k < parts; k++) assert.equal(ranges[k][0], ranges[k - 1][1]);
    for (const [r0, r1] of ranges) assert.ok(r0 <= r1);
  }
  assert.deepEqual(rowRanges(n, 1), [[0, count]]);
  const [[, cut]] = rowRanges(n, 2); // balanced: the second range pays its start, so it is shorter
  assert.ok(cut > count / 2 - 20 && cut < count / 2, `split at ${cut} of ${count}`);
});

test('the partials of every range multiply to the full power (row split, issue 19)', async () => {
  const hs = await shortBase(n);
  const whole = new FixedBaseTable(hs, n2, tableBits(n));
  const exponents = [
    0n, 1n, 255n, 256n, (1n << 1024n) - 1n, (1n << BigInt(tableBits(n) - 1)) + 987654321n,
    -((1n << 1100n) + 77n), // negative: the inverse of the product
    (1n << BigInt(tableBits(n) + 5)) + 3n, // longer than the table: modPow, in the range of row 0
  ];
  for (const parts of [1, 2, 3, 5]) {
    const tables = rowRanges(n, parts).map(([r0, r1]) => new FixedBaseTable(hs, n2, tableBits(n), whole.rows.slice(r0, r1), r0));
    if (parts > 1) assert.throws(() => tables[1].power(256n), /needs every row/);
    for (const e of exponents) {
      const partials = tables.map((t) => t.partial(e));
      const expected = e < 0n ? modInverse(modPow(hs, -e, n2), n2) : modPow(hs, e, n2);
      assert.equal(combinePartials(partials, e < 0n, n2), expected, `parts ${parts}, e ${e}`);
    }
  }
  assert.equal(whole.partial(12345n), whole.power(12345n));
});
