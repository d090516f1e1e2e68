// Bundle the ballot cryptography for the app: app/static/dist/{ssbcrypto.js (ES module),
// ssbcrypto-worker.js (classic Web Worker), qr.js (QR drawing/decoding for receipts, ES module),
// manifest.json (Subresource Integrity hashes)}.
// Output is readable (not minified) so that anyone can audit what encrypts their ballot.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(root, '..', 'app', 'static', 'dist');

const common = {
  bundle: true,
  minify: false,
  sourcemap: false,
  target: ['es2020'], // BigInt
  legalComments: 'inline',
  logLevel: 'warning',
  charset: 'utf8',
};

const bundles = [
  { name: 'ssbcrypto.js', entry: 'src/index.js', format: 'esm' },
  { name: 'ssbcrypto-worker.js', entry: 'src/worker.js', format: 'iife' },
  // Its own bundle: the ballot page, which holds no seed worth showing yet, does not load it.
  { name: 'qr.js', entry: 'src/qr.js', format: 'esm' },
];

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const manifest = {};
for (const b of bundles) {
  await build({ ...common, entryPoints: [join(root, b.entry)], format: b.format, outfile: join(outdir, b.name) });
  const digest = createHash('sha384').update(readFileSync(join(outdir, b.name))).digest('base64');
  manifest[b.name] = { file: b.name, integrity: `sha384-${digest}` };
}
writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
console.log(`built ${Object.keys(manifest).join(', ')} → ${outdir}`);
