// QR codes for the receipt and the checking page (docs/record.md §2.5), bundled to
// /static/dist/qr.js.  Drawing and decoding both happen in the browser: the receipt code holds
// the ballot's seed, which must never reach the server.
//
// Pages load the bundle as a module script with its SRI hash and use window.SSBQR (as with
// window.SSBCrypto, only the global is covered by the integrity check).
//
// Third-party code (bundled, MIT / Apache-2.0): qrcode (soldair/node-qrcode) for encoding,
// jsQR (cozmo/jsQR) for decoding.

import QRCode from 'qrcode';
import jsQR from 'jsqr';

/**
 * Draw `text` as a QR code into `canvas` (error correction M, 4-module quiet zone).
 * Black on white whatever the page colours: scanners need the contrast.
 */
export async function drawQr(canvas, text, { width = 256 } = {}) {
  await QRCode.toCanvas(canvas, text, {
    errorCorrectionLevel: 'M', margin: 4, width, color: { dark: '#000000ff', light: '#ffffffff' },
  });
}

/** The matrix (size, modules[]) of the QR code for `text`; for tests. */
export function qrMatrix(text) {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  return { size: qr.modules.size, modules: Array.from(qr.modules.data) };
}

/** Decode the first QR code in an RGBA ImageData; returns its text or null. */
export function decodeImageData(imageData) {
  const found = jsQR(imageData.data, imageData.width, imageData.height, { inversionAttempts: 'attemptBoth' });
  return found ? found.data : null;
}

/**
 * Decode a QR code from an image File/Blob (a photo or screenshot).  Large photos are scaled
 * down to at most `maxSide` pixels first: jsQR's cost grows with the pixel count.
 */
export async function decodeImageFile(file, { maxSide = 1600 } = {}) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(bitmap, 0, 0, w, h);
  if (bitmap.close) bitmap.close();
  return decodeImageData(ctx.getImageData(0, 0, w, h));
}

if (typeof document !== 'undefined' && globalThis.SSBQR === undefined) {
  Object.defineProperty(globalThis, 'SSBQR', {
    value: Object.freeze({ drawQr, qrMatrix, decodeImageData, decodeImageFile }),
    writable: false,
    configurable: false,
    enumerable: false,
  });
}
