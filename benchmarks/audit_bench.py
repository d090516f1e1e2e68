"""What an audit costs the server beyond a cast (docs/protocol.md §14.3): opening the ballot with
its seed (§5.6, one n-th power per candidate), next to verifying its proofs (§5.4).

Run: ``.venv/bin/python benchmarks/audit_bench.py [--bits 2048] [--candidates 228] [--k 7]``.
Any n works for timing, so n is a product of two random primes (gmpy2.next_prime), not safe
primes.  Prints the seconds of one opening, one proof verification and their ratio.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

import gmpy2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crypto import ContestStatement, PublicKey, encrypt_contest, open_ballot, verify_contest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--candidates", type=int, default=228)
    parser.add_argument("--k", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    half = args.bits // 2
    top = 3 << (half - 2)  # the two top bits set: p·q has exactly 2·half bits
    p = int(gmpy2.next_prime(secrets.randbits(half) | top))
    q = int(gmpy2.next_prime(secrets.randbits(half) | top))
    pk = PublicKey(p * q, allow_insecure_test_key=args.bits < 2048)
    statement = ContestStatement(pk, "ab" * 32, "insured", f"{'cd' * 16}/{'ef' * 32}", args.candidates, args.k)
    selections = [1 if i < args.k else 0 for i in range(args.candidates)]
    seed = secrets.token_bytes(32)
    t0 = time.perf_counter()
    ballot = encrypt_contest(statement, selections, seed, processes=1)
    print(f"encrypt {args.candidates} candidates, k={args.k}, {args.bits} bits: {time.perf_counter() - t0:.2f} s "
          "(one core; the browser precomputes in workers)")
    opening = min(_time(lambda: open_ballot(statement, ballot, seed)) for _ in range(args.repeat))
    verify = min(_time(lambda: verify_contest(statement, ballot)) for _ in range(args.repeat))
    print(f"open with the seed (§5.6):   {opening * 1000:8.1f} ms")
    print(f"verify the proofs (§5.4):    {verify * 1000:8.1f} ms")
    print(f"an audit costs the server {1 + opening / verify:.2f}× a cast's verification (one core)")


def _time(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
