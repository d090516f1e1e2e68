// Canonical encodings (docs/protocol.md §2) and arithmetic.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { canonicalJson, hazmat, InvalidInput } from '../src/index.js';

const { bitLength, bytesToHex, gcd, hexToInt, intToHex, lpEncode, mod, modInverse, modPow } = hazmat;

test('LP example of §2.2', () => {
  const got = bytesToHex(lpEncode('ab', 255n, new Uint8Array([0]), ['x', 0]));
  assert.equal(got, '73000000026162' + '69000000026666' + '620000000100' + '6c00000002' + '730000000178' + '690000000130');
});

test('LP encodes UTF-8 byte lengths, not UTF-16 lengths', () => {
  assert.equal(bytesToHex(lpEncode('ก')), '7300000003e0b881');
});

test('LP refuses negative integers and booleans', () => {
  assert.throws(() => lpEncode(-1n), RangeError);
  assert.throws(() => lpEncode(true), TypeError);
});

test('canonical hex (§2.1)', () => {
  assert.equal(intToHex(0n), '0');
  assert.equal(intToHex(255n), 'ff');
  assert.equal(hexToInt('1f', 'x'), 31n);
  for (const bad of ['', '01', 'FF', '0x1', '-1', ' 1', 'g', 1, null]) {
    assert.throws(() => hexToInt(bad, 'x'), InvalidInput, String(bad));
  }
  assert.throws(() => hexToInt('1'.repeat(4097), 'x'), InvalidInput);
  assert.throws(() => hexToInt('10', 'x', { upper: 16n }), /above/);
  assert.throws(() => hexToInt('0', 'x', { lower: 1n }), /below/);
});

test('canonical JSON matches Python json.dumps(sort_keys, separators, ensure_ascii=False)', () => {
  // Expected strings produced by Python 3 for the same objects.
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'] }), '{"a":[true,null,"x"],"b":1}');
  assert.equal(canonicalJson({ s: 'ผู้ประกันตน "q" \\ \n\t\u0001\u007f\u2028' }),
    '{"s":"ผู้ประกันตน \\"q\\" \\\\ \\n\\t\\u0001\u007f\u2028"}');
  // Code-point order: U+1F600 (astral) sorts after U+FF5E although its UTF-16 unit 0xD83D does not.
  assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFF5E': 2, a: 3 }), '{"a":3,"\uFF5E":2,"\u{1F600}":1}');
  assert.throws(() => canonicalJson({ x: 1.5 }), TypeError);
  assert.throws(() => canonicalJson({ x: 1n }), TypeError);
  assert.throws(() => canonicalJson({ x: '\ud800' }), InvalidInput);
});

test('modPow agrees with square-and-multiply for many sizes, including negative exponents', () => {
  const naive = (b, e, m) => {
    let r = 1n;
    b = mod(b, m);
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r % m;
  };
  const m = (1n << 521n) - 1n;
  let x = 0x1234567890abcdefn;
  for (const bits of [0, 1, 2, 7, 24, 25, 80, 81, 128, 240, 241, 768, 769, 1100]) {
    x = (x * 0x9e3779b97f4a7c15n + 12345n) % m;
    const e = bits === 0 ? 0n : (x % (1n << BigInt(bits))) | (1n << BigInt(bits - 1));
    assert.equal(modPow(x, e, m), naive(x, e, m), `bits=${bits}`);
  }
  assert.equal(modPow(5n, 3n, 1n), 0n);
  assert.equal(modPow(3n, -1n, 7n), 5n);
  assert.equal((modPow(3n, -5n, 1000003n) * modPow(3n, 5n, 1000003n)) % 1000003n, 1n);
});

test('modInverse, gcd, bitLength', () => {
  assert.equal(modInverse(3n, 7n), 5n);
  assert.equal(modInverse(-3n, 7n), 2n);
  assert.throws(() => modInverse(6n, 9n), RangeError);
  assert.equal(gcd(84n, -36n), 12n);
  assert.equal(gcd(0n, 5n), 5n);
  assert.equal(bitLength(0n), 0);
  assert.equal(bitLength(1n), 1);
  assert.equal(bitLength(255n), 8);
  assert.equal(bitLength(256n), 9);
  assert.equal(bitLength(1n << 2047n), 2048);
});

test('modPow with Barrett reduction (moduli ≥ 512 bits) matches plain reduction', () => {
  const plain = (b, e, m) => {
    let r = 1n;
    b %= m;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r;
  };
  let seed = 0xdeadbeefn;
  const next = (bits) => {
    let x = 0n;
    for (let i = 0; i < bits; i += 64) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      x = (x << 64n) | seed;
    }
    return x & ((1n << BigInt(bits)) - 1n);
  };
  for (const bits of [512, 513, 1024, 4096]) {
    const m = next(bits) | (1n << BigInt(bits - 1)) | 1n;
    for (const ebits of [33, 300]) {
      const b = next(bits + 8); // larger than m: reduced first
      const e = next(ebits) | (1n << BigInt(ebits - 1));
      assert.equal(modPow(b, e, m), plain(b, e, m), `${bits}-bit modulus, ${ebits}-bit exponent`);
      assert.equal(modPow(m - 1n, e, m), plain(m - 1n, e, m));
    }
  }
});
