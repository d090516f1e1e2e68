// The credential field (docs/protocol.md §13.1): typed in groups of four with live checking,
// or read from the QR code of the letter (camera, or a photo as the fallback).  Used by the
// ballot page (the voter's credential, purpose "voter") and the officials' paper-vote page
// (the official's credential, purpose "official").
//
// What the person types is normalised and checked here with SSBCrypto.credential (the same
// rules as crypto/credential.py); once its 28 symbols pass the check symbols, the signing key
// is derived on this device and its public key compared with the one the server registered for
// this person, so a valid credential of someone else is refused before anything is signed.
// Nothing here sends the credential anywhere.
import { fmt } from './common.js';

const SEPARATORS = new Set([' ', '\t', '\r', '\n', '-']);
const GROUP = 4;
const SCAN_INTERVAL_MS = 150;
const SCAN_MAX_SIDE = 720;

/**
 * The symbols typed so far, normalised as §13.1 says (separators dropped, ASCII letters
 * upper-cased, O read as 0 and I, L as 1), or null at the first character that cannot be part
 * of a credential.  For feedback while typing only: parseCredential decides.
 */
export function typedSymbols(text, alphabet) {
  let out = '';
  for (const char of text) {
    if (SEPARATORS.has(char)) continue;
    let c = char >= 'a' && char <= 'z' ? char.toUpperCase() : char;
    if (c === 'O') c = '0';
    else if (c === 'I' || c === 'L') c = '1';
    if (c.length !== 1 || !alphabet.includes(c)) return null;
    out += c;
  }
  return out;
}

/** `symbols` in groups of four joined by '-' (the last group may be shorter). */
export function grouped(symbols) {
  return (symbols.match(new RegExp(`.{1,${GROUP}}`, 'g')) || []).join('-');
}

/**
 * Wire the credential field found in the page (ids: credential, credential-entry,
 * credential-status, credential-error; optional scan-start, scan-stop, scan-panel, scan-video,
 * scan-file, scan-status, credential-forget).
 *
 * options: M (messages), derive(symbols) → Promise<public key hex>, expected (64 hex or null:
 * the public key registered for this person), electionId (voter QR codes name it), storageKey
 * (sessionStorage key to keep the credential for this tab session, or null: never stored),
 * onChange(state).
 * Returns {symbols(): Promise<string> (the checked 28 symbols, or throws Error(message) after
 * showing it), state, setExpected(hex), focus()}.
 */
export function credentialEntry({ M, derive, expected = null, electionId = null, storageKey = null, onChange = null }) {
  const $ = (id) => document.getElementById(id);
  const api = window.SSBCrypto.credential;
  const root = $('credential-entry');
  const input = $('credential');
  const status = $('credential-status');
  const error = $('credential-error');
  const forget = $('credential-forget');
  let state = 'empty';
  let checked = null; // the 28 symbols once they passed every check
  let pending = null; // the check of the last full credential typed
  let generation = 0;

  function setState(next, { message = '', note = '' } = {}) {
    state = next;
    root.dataset.state = next;
    error.textContent = message;
    error.hidden = !message;
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
    status.textContent = note;
    if (forget) forget.hidden = !(storageKey && next === 'valid');
    if (onChange) onChange(next);
  }

  function store(symbols) {
    if (!storageKey) return;
    try {
      if (symbols) sessionStorage.setItem(storageKey, symbols);
      else sessionStorage.removeItem(storageKey);
    } catch (err) { /* storage disabled: the voter types it again next time */ }
  }

  async function check(symbols, mine) {
    let parsed;
    try {
      parsed = await api.parseCredential(symbols);
    } catch (err) {
      return { state: 'mistyped', message: M.mistyped };
    }
    let publicKey;
    try {
      publicKey = await derive(parsed);
    } catch (err) {
      return { state: 'failed', message: M.deriveFailed };
    }
    if (mine !== generation) return null; // typed on meanwhile
    if (expected && publicKey !== expected) return { state: 'not-yours', message: M.notYours };
    return { state: 'valid', symbols: parsed };
  }

  function update({ reformat = true, stored = false } = {}) {
    generation += 1;
    const mine = generation;
    checked = null;
    pending = null;
    const text = input.value;
    const symbols = typedSymbols(text, api.ALPHABET);
    if (symbols === null || symbols.length > api.SYMBOLS) {
      setState('mistyped', { message: M.mistyped });
      return;
    }
    const atEnd = input.selectionStart === text.length;
    if (reformat && atEnd && symbols.length > 0) {
      const shown = grouped(symbols);
      if (shown !== text) input.value = shown;
    }
    if (symbols.length === 0) {
      setState('empty');
      return;
    }
    if (symbols.length < api.SYMBOLS) {
      setState('partial', { note: fmt(M.progress, { n: symbols.length, total: api.SYMBOLS }) });
      return;
    }
    setState('checking', { note: M.checking });
    pending = check(symbols, mine).then((result) => {
      if (result === null || mine !== generation) return;
      if (result.state === 'valid') {
        checked = result.symbols;
        store(checked);
        setState('valid', { note: stored ? M.remembered : M.valid });
      } else {
        if (stored) store(null);
        setState(result.state, { message: result.message });
      }
    });
  }

  input.addEventListener('input', () => update());
  input.addEventListener('paste', () => setTimeout(() => update(), 0));

  if (forget) {
    forget.addEventListener('click', () => {
      store(null);
      input.value = '';
      update();
      input.focus();
    });
  }

  // --- the QR code of the letter ------------------------------------------------------------
  const scanStatus = $('scan-status');
  let stream = null;
  let timer = null;

  async function fromQr(text) {
    let found;
    try {
      found = await api.parseCredentialQr(text);
    } catch (err) {
      return text.startsWith(api.QR_PREFIX) ? M.qrMistyped : M.qrNotCredential;
    }
    if (electionId && found.electionId !== electionId) return M.qrOtherElection;
    input.value = grouped(found.credential);
    update({ reformat: false });
    return '';
  }

  function stopCamera() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    const panel = $('scan-panel');
    if (panel) panel.hidden = true;
    const video = $('scan-video');
    if (video) video.srcObject = null;
    root.dataset.camera = 'off';
  }

  async function startCamera() {
    const video = $('scan-video');
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.SSBQR) {
      scanStatus.textContent = M.noCamera;
      return;
    }
    scanStatus.textContent = M.cameraStarting;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
    } catch (err) {
      stream = null;
      scanStatus.textContent = M.cameraDenied;
      return;
    }
    $('scan-panel').hidden = false;
    root.dataset.camera = 'on';
    video.srcObject = stream;
    try {
      await video.play();
    } catch (err) { /* autoplay of a muted, inline video is allowed; frames are read anyway */ }
    scanStatus.textContent = M.cameraScanning;
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    let busy = false;
    let lastProblem = '';
    timer = setInterval(async () => {
      if (busy || !stream || video.readyState < 2 || !video.videoWidth) return;
      busy = true;
      try {
        const scale = Math.min(1, SCAN_MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
        canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        const text = window.SSBQR.decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
        if (text && stream) {
          const problem = await fromQr(text);
          if (!problem) {
            stopCamera();
            scanStatus.textContent = M.qrRead;
            input.focus();
          } else if (problem !== lastProblem) {
            lastProblem = problem;
            scanStatus.textContent = problem; // keep scanning: perhaps another code is in view
          }
        }
      } finally {
        busy = false;
      }
    }, SCAN_INTERVAL_MS);
  }

  const start = $('scan-start');
  if (start) {
    root.dataset.camera = 'off';
    start.addEventListener('click', () => {
      if (stream) return;
      startCamera();
    });
    $('scan-stop').addEventListener('click', () => {
      stopCamera();
      scanStatus.textContent = '';
      start.focus();
    });
    window.addEventListener('pagehide', stopCamera);
  }

  const file = $('scan-file');
  if (file) {
    file.addEventListener('change', async () => {
      const picture = file.files && file.files[0];
      if (!picture) return;
      scanStatus.textContent = M.qrReadingPhoto;
      let text = null;
      try {
        text = window.SSBQR ? await window.SSBQR.decodeImageFile(picture) : null;
      } catch (err) {
        text = null;
      }
      if (!text) {
        scanStatus.textContent = M.qrNone;
        return;
      }
      const problem = await fromQr(text);
      scanStatus.textContent = problem || M.qrRead;
    });
  }

  // --- a credential kept for this tab session ---------------------------------------------------
  if (storageKey) {
    let kept = null;
    try {
      kept = sessionStorage.getItem(storageKey);
    } catch (err) { /* storage disabled */ }
    if (kept) {
      input.value = grouped(kept);
      update({ reformat: false, stored: true });
    }
  }
  if (state === 'empty' && input.value) update();
  if (state === 'empty') setState('empty');

  return {
    get state() {
      return state;
    },
    /** The checked 28 symbols; otherwise shows why not, focuses the field and throws. */
    async symbols() {
      if (state === 'checking' && pending) await pending;
      if (state === 'valid' && checked) return checked;
      let message = error.textContent;
      if (state === 'empty') message = M.required;
      else if (state === 'partial') message = M.mistyped;
      if (!message) message = M.mistyped;
      error.textContent = message;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      throw new Error(message);
    },
    /** A new registered public key (e.g. after the context was reloaded): check again. */
    setExpected(hex) {
      if (hex === expected) return;
      expected = hex;
      update({ reformat: false });
    },
    forget() {
      store(null);
    },
    focus() {
      input.focus();
    },
  };
}
