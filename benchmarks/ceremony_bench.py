"""Key ceremony benchmark (issue 17): time of the ceremony with its proofs, proof sizes, the time
of every key check (docs/protocol.md §6.2), and the trustee tool's multiplications.

Run: ``.venv/bin/python benchmarks/ceremony_bench.py [--bits 2048,3072] [--trustees 5] [--threshold 3]``.

For each size it prints: safe-prime generation (the dominant, random cost), the rest of the
ceremony (signing keys, v, shares, Π^mod, Π^fac, the self-check), the size of each proof and of
``election_key.json``, the time of each named check as a verifier runs it (Pollard's p − 1 and
the small-order test included), and the trustee tool's cost to rebuild a 7-of-228 tally:
multiplications mod n² per ballot, extrapolated to 1 000 000 ballots (plus, for information,
parsing the 228 ciphertexts' hex and hashing a ballot line).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gmpy2  # noqa: E402

from crypto.ceremony import election_key_from_primes  # noqa: E402
from crypto.encoding import canonical_json  # noqa: E402
from crypto.keycheck import CHECKS, _PASSED, check_election_key  # noqa: E402
from crypto.keyproofs import lcm_below, prove_factors, prove_modulus  # noqa: E402
from crypto.primes import generate_safe_prime  # noqa: E402


def safe_primes(bits: int) -> tuple[int, int, float]:
    start = time.perf_counter()
    while True:
        p, q = generate_safe_prime(bits // 2), generate_safe_prime(bits // 2)
        if p != q and (p * q).bit_length() == bits:
            return p, q, time.perf_counter() - start


def kib(obj: object) -> str:
    return f"{len(canonical_json(obj)) / 1024:.1f} KiB"


def trustee_multiplications(bits: int, candidates: int = 228, ballots: int = 300) -> tuple[float, float, float]:
    """Seconds per ballot: the multiplications mod n² of one 7-of-228 ballot into the running
    tally; parsing its ciphertexts' hex; SHA-256 of its line (≈ 0.7 MB at 2048 bits)."""
    n = gmpy2.mpz(secrets.randbits(bits) | (1 << (bits - 1)) | 1)
    n2 = n * n
    cts = [[gmpy2.mpz(secrets.randbelow(int(n2))) for _ in range(candidates)] for _ in range(8)]
    acc = [gmpy2.mpz(1)] * candidates
    start = time.perf_counter()
    for b in range(ballots):
        ballot = cts[b % 8]
        acc = [a * c % n2 for a, c in zip(acc, ballot)]
    mult = (time.perf_counter() - start) / ballots
    texts = [format(int(c), "x") for c in cts[0]]
    start = time.perf_counter()
    for _ in range(50):
        [int(t, 16) for t in texts]
    parse = (time.perf_counter() - start) / 50
    line = os.urandom(int(0.7 * 1024 * 1024 * bits / 2048))
    start = time.perf_counter()
    for _ in range(10):
        hashlib.sha256(line).digest()
    digest = (time.perf_counter() - start) / 10
    return mult, parse, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bits", default="2048,3072")
    parser.add_argument("--trustees", type=int, default=5)
    parser.add_argument("--threshold", type=int, default=3)
    args = parser.parse_args()
    names = [f"trustee-{i}" for i in range(1, args.trustees + 1)]
    start = time.perf_counter()
    lcm_below(1 << 20), lcm_below(1 << 16)
    print(f"one-time: L(2^20), L(2^16) for Pollard / small order: {time.perf_counter() - start:.2f} s "
          f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")
    for bits in (int(b) for b in args.bits.split(",")):
        p, q, prime_time = safe_primes(bits)
        kid = "0" * 64
        start = time.perf_counter()
        prove_modulus(p, q, kid)
        mod_time = time.perf_counter() - start
        start = time.perf_counter()
        prove_factors(p, q, kid)
        fac_time = time.perf_counter() - start
        start = time.perf_counter()
        key, _ = election_key_from_primes(p, q, names, args.threshold, allow_insecure_test_key=bits < 2048)
        rest = time.perf_counter() - start
        print(f"\n{bits}-bit n, {args.threshold} of {args.trustees} trustees")
        print(f"  ceremony: safe primes {prime_time:.1f} s (random; the dominant cost) + the rest {rest:.2f} s "
              f"(of which Π^mod {mod_time:.2f} s, Π^fac {fac_time:.2f} s, the rest v, shares, self-check) "
              f"= {prime_time + rest:.1f} s")
        proofs = key.proofs
        print(f"  sizes: Π^mod {kib(proofs.modulus.to_dict())}, Π^fac {kib(proofs.factors.to_dict())}, "
              f"election_key.json {kib(key.to_dict())}")
        _PASSED.clear()
        total = 0.0
        parts = []
        for name, check in CHECKS:
            start = time.perf_counter()
            check(key, None)
            elapsed = time.perf_counter() - start
            total += elapsed
            parts.append(f"{name} {elapsed:.2f} s")
        print(f"  verify (as the verifier, one core): {', '.join(parts)}; total {total:.2f} s")
        _PASSED.clear()
        check_election_key(key)
        mult, parse, digest = trustee_multiplications(bits)
        print(f"  trustee tool, 7-of-228 ballots: multiplications {mult * 1e3:.2f} ms/ballot = "
              f"{mult * 1e6 / 60:.1f} min per 1 000 000 ballots (one core); "
              f"parsing the ciphertexts {parse * 1e3:.2f} ms, SHA-256 of the line {digest * 1e3:.2f} ms per ballot")


if __name__ == "__main__":
    main()
