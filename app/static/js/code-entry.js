// The code field of the check and track pages (templates/_code_entry.html): a code typed or
// pasted into the textarea #<name>, or read from a picture of its QR code (#qr-file), or else a
// board position and a short tracker typed into #position and #short (docs/protocol.md §14.1).
import { positionAndShort } from './common.js';

/**
 * Wire the code field #<name> of the page.
 *
 * options: name (the textarea's id; its error box is #<name>-error), parse(text) → what the
 * page wants from the code with white space dropped, or null if it is not a code the page takes;
 * M: the messages invalid (shown when nothing usable was given), qrFound, qrNone and, optionally,
 * qrReading (shown while a picture is read).
 * Returns {read(): what parse gave, or {seq, prefix} from the typed position and tracker, or null
 * after showing M.invalid and focusing the field to correct}.
 */
export function codeEntry({ name, parse, M }) {
  const $ = (id) => document.getElementById(id);
  const input = $(name);
  const errorBox = $(`${name}-error`);

  function fieldError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
    for (const id of [name, 'position', 'short']) $(id).setAttribute('aria-invalid', message ? 'true' : 'false');
  }

  $('qr-file').addEventListener('change', async (event) => {
    const file = event.target.files && event.target.files[0];
    const status = $('qr-status');
    if (!file) return;
    status.textContent = M.qrReading || '';
    try {
      const text = window.SSBQR ? await window.SSBQR.decodeImageFile(file) : null;
      if (text) {
        input.value = text.trim();
        fieldError('');
        status.textContent = M.qrFound;
      } else {
        status.textContent = M.qrNone;
      }
    } catch (err) {
      status.textContent = M.qrNone;
    }
  });

  function read() {
    const text = input.value.replace(/\s+/g, '');
    const wanted = text !== '' ? parse(text) : positionAndShort($('position').value, $('short').value);
    if (!wanted) {
      fieldError(M.invalid);
      (input.value.trim() !== '' ? input : $('position')).focus();
      return null;
    }
    fieldError('');
    return wanted;
  }

  return { read };
}
