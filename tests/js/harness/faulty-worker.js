// Test-only worker (tests/js/test_browser_worker_recovery.py; never part of app/static/dist):
// the real worker script, made to fail for real as a phone's worker can (out of memory, a
// script error).  ?fail=powers: an uncaught exception on its first batch of powers (an 'error'
// event at the page, mid-ballot); ?fail=warm: an error reply to 'warm'; ?fail=split: an error
// reply to 'warm' when the table is split between several workers (one worker over all rows
// works); ?fail=load: a script error while loading.
const fail = new URL(self.location.href).searchParams.get('fail');
if (fail === 'load') throw new Error('test: worker script error');
importScripts('/static/dist/ssbcrypto-worker.js');
const real = self.onmessage;
self.onmessage = (event) => {
  const msg = event.data;
  if (fail === 'powers' && msg.type === 'powers') throw new Error('test: worker crashed mid-ballot');
  if ((fail === 'warm' || (fail === 'split' && msg.parts > 1)) && msg.type === 'warm') {
    self.postMessage({ type: 'error', message: 'test: out of memory' });
    return undefined;
  }
  return real(event);
};
