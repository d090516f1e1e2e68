// The receipt page: draw the receipt code as a QR code from this tab's sessionStorage.
// The code holds the ballot's seed; the server never had it and never renders it.
import { pageData } from './common.js';

const M = pageData('receipt-data').messages;
const section = document.getElementById('receipt-code');
let code = null;
try {
  code = sessionStorage.getItem(section.dataset.storageKey);
} catch (err) { /* storage disabled */ }

if (!code) {
  document.getElementById('code-missing').hidden = false;
} else {
  document.getElementById('code-present').hidden = false;
  const text = document.getElementById('code-text');
  text.value = code;
  const canvas = document.getElementById('qr-canvas');
  const qr = window.SSBQR;
  const draw = qr ? qr.drawQr(canvas, code, { width: 256 }) : Promise.reject(new Error('no QR bundle'));
  draw.then(() => { canvas.dataset.drawn = 'true'; }, () => {
    canvas.hidden = true;
    document.getElementById('copy-status').textContent = M.qrFailed;
  });
  document.getElementById('copy-code').addEventListener('click', async () => {
    const status = document.getElementById('copy-status');
    try {
      await navigator.clipboard.writeText(code);
      status.textContent = M.copied;
    } catch (err) {
      text.focus();
      text.select();
      status.textContent = M.copyFailed;
    }
  });
}
