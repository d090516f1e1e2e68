"""Credential and ballot-signature benchmark (docs/protocol.md §13).

Run: ``.venv/bin/python benchmarks/credential_bench.py [--count 2000] [--no-js] [--browser]``.

Prints, per ballot statement, the time to sign it and to verify its signature in Python
(``cryptography``; the cast API and the verifier), the key derivation (parse + HKDF + Ed25519
key), and the same in JavaScript (frontend/src/credential.js: WebCrypto HKDF, @noble/curves
Ed25519) under node — the code the browser bundle runs, on V8.  ``--browser`` also times
``window.SSBCrypto.credential`` in headless Chromium (needs the bundle: ``./scripts/setup.sh``).
Target: ≤ 2 ms each.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crypto.credential import (  # noqa: E402
    ballot_statement, generate_credential, public_credential, sign_ballot, verify_ballot_signature, voter_key,
)

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
TARGET_US = 2000.0

BENCH_BODY = r"""
// Means over whole loops: browsers coarsen performance.now() (≈ 0.1 ms), so single calls are not timed.
const credentialText = await C.generateCredential();
const fields = { electionId, opening: 'ab'.repeat(32), contest: 'insured-board', pseudonym: 'cd'.repeat(16),
                 ballotHash: 'ef'.repeat(32), previous: '' };
let signed = await C.signBallot(fields, credentialText);  // warm-up: base-point tables
C.verifyBallotSignature(signed.statement, signed.signature);
const derives = Math.min(count, 200);
let t = performance.now();
for (let i = 0; i < derives; i++) await C.voterKey(credentialText, electionId);
const derive = (performance.now() - t) / derives;
t = performance.now();
for (let i = 0; i < count; i++) signed = await C.signBallot(fields, credentialText);
const sign = (performance.now() - t) / count;
t = performance.now();
for (let i = 0; i < count; i++) {
  if (!C.verifyBallotSignature(signed.statement, signed.signature)) throw new Error('did not verify');
}
const verify = (performance.now() - t) / count;
// signBallot includes the key derivation (the page keeps no key); sign alone = sign - derive.
return { derive: derive * 1000, signBallot: sign * 1000, verify: verify * 1000 };
"""
NODE_JS = (
    "import * as C from './frontend/src/credential.js';\n"
    "const count = Number(process.argv[1]); const electionId = process.argv[2];\n"
    f"const bench = async () => {{ {BENCH_BODY} }};\n"
    "process.stdout.write(JSON.stringify(await bench()));\n"
)
PAGE_JS = f"async ([count, electionId]) => {{ const C = window.SSBCrypto.credential; {BENCH_BODY} }}"


def median_us(fn: Callable[[], Any], count: int) -> float:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def python_timings(count: int) -> dict[str, float]:
    credential = generate_credential()
    key = voter_key(credential, ELECTION)
    fields = (ELECTION, "ab" * 32, "insured-board", "cd" * 16, public_credential(key), "ef" * 32)
    statement = ballot_statement(*fields, previous="")
    signature = sign_ballot(statement, key)

    def verify() -> None:
        assert verify_ballot_signature(*fields, signature, previous="")

    return {
        "derive": median_us(lambda: voter_key(credential, ELECTION), min(count, 500)),
        "sign": median_us(lambda: sign_ballot(ballot_statement(*fields, previous=""), key), count),
        "verify": median_us(verify, count),
    }


def js_timings(count: int) -> dict[str, float] | None:
    node = shutil.which("node")
    if node is None:
        return None
    proc = subprocess.run([node, "--input-type=module", "-e", NODE_JS, str(count), ELECTION],
                          cwd=ROOT, capture_output=True, timeout=600, check=True)
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def browser_timings(count: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from tests.js.harness_server import serve_harness
    from tests.js.support import CHROMIUM, CHROMIUM_ARGS

    with serve_harness() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("() => window.SSBCrypto !== undefined && window.SSBCrypto.credential !== undefined")
            result: dict[str, float] = page.evaluate(PAGE_JS, [count, ELECTION])
        finally:
            browser.close()
    return result


def print_js(title: str, js: dict[str, float]) -> None:
    print(title)
    print(f"  key derivation (parse + WebCrypto HKDF):     {js['derive']:8.1f} µs")
    print(f"  signBallot (derivation + Ed25519 sign):      {js['signBallot']:8.1f} µs   "
          f"[{verdict(js['signBallot'])}, target ≤ 2000]  (sign alone ≈ {js['signBallot'] - js['derive']:.0f} µs)")
    print(f"  verifyBallotSignature:                       {js['verify']:8.1f} µs   [{verdict(js['verify'])}, target ≤ 2000]")


def verdict(us: float) -> str:
    return "ok" if us <= TARGET_US else "OVER TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--no-js", action="store_true")
    parser.add_argument("--browser", action="store_true", help="also time the bundle in headless Chromium")
    args = parser.parse_args()

    py = python_timings(args.count)
    print(f"Python (cryptography), median of {args.count}, per ballot statement:")
    print(f"  key derivation (parse + HKDF + Ed25519 key): {py['derive']:8.1f} µs")
    print(f"  sign (statement + canonical JSON + Ed25519): {py['sign']:8.1f} µs   [{verdict(py['sign'])}, target ≤ 2000]")
    print(f"  verify (validate fields + Ed25519 verify):   {py['verify']:8.1f} µs   [{verdict(py['verify'])}, target ≤ 2000]")
    if not args.no_js:
        js = js_timings(args.count)
        if js is None:
            print("JS: node not found, skipped")
        else:
            print_js(f"JavaScript under node, mean of {args.count} (frontend/src/credential.js, the bundle's code):", js)
    if args.browser:
        print_js(f"Headless Chromium, mean of {args.count} (window.SSBCrypto.credential, app/static/dist):",
                 browser_timings(args.count))


if __name__ == "__main__":
    main()
