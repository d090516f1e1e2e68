// The pool's failure-recovery rule (encryptor.js startWorkers; the browser behaviour itself is
// tests/js/test_browser_worker_recovery.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_REPLACEMENTS, onWorkerFailure } from '../src/encryptor.js';

test('a range gets MAX_REPLACEMENTS replacement workers, then the pool gives up', () => {
  assert.equal(MAX_REPLACEMENTS, 2);
  assert.deepEqual([1, 2, 3, 4].map(onWorkerFailure), ['replace', 'replace', 'give-up', 'give-up']);
});
