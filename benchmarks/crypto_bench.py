"""Crypto benchmarks (docs/protocol.md §8): ballot make / verify and decryption shares.

Run: ``.venv/bin/python benchmarks/crypto_bench.py [--bits 2048] [--processes 2]``.
The 2048-bit safe-prime threshold key is cached in /tmp (generation takes a few seconds).
Reference: ElectionGuard-python, 7-of-228 contest: 2.4 s to make, 4.6 s to verify a ballot
(quoted figures, issue 19 — ElectionGuard is not run here).

Protocol version 3 (docs/protocol.md §5.0–§5.7): every power of a ballot is a power of the fixed
base h_s with a short exponent, from a fixed-base table built once per key and process (its
build time is printed apart: it is per election, not per ballot).  Also printed, measured in the
same run: one power of h_s (table vs powmod), version 2's cost for comparison (3N + k + 2 n-th
powers r^n mod n², from one timed n-th power), and the batch z-part in both forms — integer
responses (Σ δ·z, one power of h_s) against residue responses (∏ z^δ mod n, one n-th power).
CPU seconds (time.process_time) are printed next to wall seconds: the machine may be shared.
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crypto import ContestStatement, encrypt_contest, precompute_contest, verify_contest, verify_many  # noqa: E402
from crypto.hazmat.gmp import mpz, powmod  # noqa: E402
from crypto.hazmat.multiexp import multi_exp  # noqa: E402
from crypto.proofs import nonce_bits, zero_one_witness_bits  # noqa: E402
from crypto.ceremony import generate_election_key  # noqa: E402
from crypto.paillier import encrypt  # noqa: E402
from crypto.randomness import random_unit  # noqa: E402
from crypto.threshold import ElectionPublicKey, TrusteeShare, compute_decryption_share, verify_decryption_share  # noqa: E402

REF_MAKE, REF_VERIFY = 2.4, 4.6


CPU: dict[str, float] = {}


def timed(fn: Callable[[], Any], repeat: int = 1, label: str = "") -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (and its CPU time under ``label``)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best = elapsed
            if label:
                CPU[label] = time.process_time() - cpu
    return best, result


def load_key(bits: int) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    cache = Path(f"/tmp/ssb_vote_bench_key_v2_{bits}.json")
    if cache.exists():
        data = json.loads(cache.read_text())
        key = ElectionPublicKey.from_dict(data["key"], allow_insecure_test_key=bits < 2048)
        return key, [TrusteeShare.from_dict(s, allow_insecure_test_key=bits < 2048) for s in data["shares"]]
    start = time.perf_counter()
    key, shares = generate_election_key(bits, ["t1", "t2", "t3", "t4", "t5"], 3, allow_insecure_test_key=bits < 2048)
    print(f"key generation ({bits}-bit n, safe primes, 3-of-5): {time.perf_counter() - start:.1f} s")
    cache.write_text(json.dumps({"key": key.to_dict(), "shares": [s.to_dict() for s in shares]}))
    return key, shares


def bench_contest(key: ElectionPublicKey, candidates: int, k: int, processes: int) -> None:
    pk = key.public_key
    e, c, p = "bench-election", f"contest-{candidates}", "voter-1"
    selections = [1] * k + [0] * (candidates - k)
    seed = secrets.token_bytes(32)
    statement = ContestStatement(pk, e, c, p, candidates, k)
    t_table, _ = timed(lambda: pk.short_table)  # once per key and process (cached afterwards)
    t_pre, pre = timed(lambda: precompute_contest(statement, seed), repeat=2, label="pre")
    t_pre_par, _ = timed(lambda: precompute_contest(statement, seed, processes=processes))
    t_online, ballot = timed(lambda: encrypt_contest(statement, selections, seed, precomputed=pre), repeat=3,
                             label="online")
    t_batch, _ = timed(lambda: verify_contest(statement, ballot, batch=True), repeat=3, label="batch")
    t_single, _ = timed(lambda: verify_contest(statement, ballot, batch=False))

    def cross_ballot() -> None:
        assert verify_many([(statement, ballot)] * 10) == {}

    t_cross, _ = timed(cross_ballot, repeat=2, label="cross")
    print(f"\n{k}-of-{candidates} contest, {pk.n.bit_length()}-bit n, one core unless noted")
    print(f"  make: precompute n-th powers   {t_pre:8.3f} s   ({processes} processes: {t_pre_par:.3f} s)")
    print(f"  make: online (after choice)    {t_online:8.3f} s")
    print(f"  make: total                    {t_pre + t_online:8.3f} s   ({processes} processes: {t_pre_par + t_online:.3f} s)")
    print(f"  verify batched                 {t_batch:8.3f} s")
    print(f"  verify unbatched               {t_single:8.3f} s")
    print(f"  verify batched, 10 ballots     {t_cross / 10:8.3f} s/ballot  ({10 / t_cross:.1f} ballots/s)")
    print(f"  CPU s (process_time): make total {CPU['pre'] + CPU['online']:.3f}, verify batched {CPU['batch']:.3f}, "
          f"10-ballot batch {CPU['cross'] / 10:.3f}/ballot")
    powers = 3 * candidates + k + 2
    print(f"  table of h_s (once per key)    {t_table:8.3f} s   (cached for every later ballot)")
    if candidates == 228:
        bench_forms(pk, powers, 2 * candidates + k + 1)
    if candidates == 228:
        print(f"  vs ElectionGuard-python (make {REF_MAKE} s, verify {REF_VERIFY} s): make ×{REF_MAKE / (t_pre + t_online):.2f} "
              f"(×{REF_MAKE / (t_pre_par + t_online):.2f} with {processes} processes, ×{REF_MAKE / t_online:.0f} online only), "
              f"verify ×{REF_VERIFY / t_batch:.1f} batched / ×{REF_VERIFY / t_single:.2f} unbatched")


def bench_forms(pk: Any, powers: int, branches: int) -> None:
    """Version 2 vs 3 and residue vs integer responses, measured now (same load)."""
    n, n2 = pk.n_mpz, pk.n_square
    s0 = nonce_bits(zero_one_witness_bits(pk))
    exps = [secrets.randbits(s0) for _ in range(20)]
    t_tab, _ = timed(lambda: [pk.short_power(x) for x in exps], repeat=3)
    t_pow, _ = timed(lambda: [powmod(pk.short_base, x, n2) for x in exps[:5]], repeat=2)
    r = mpz(secrets.randbelow(pk.n))
    t_nth, _ = timed(lambda: powmod(r, n, n2), repeat=3)
    print(f"  one power of h_s, {s0}-bit exponent: table {t_tab / 20 * 1000:.2f} ms, powmod {t_pow / 5 * 1000:.2f} ms; "
          f"version 2's r^n mod n²: {t_nth * 1000:.2f} ms")
    print(f"  version 2 (r^n) make, estimated: {powers} n-th powers × {t_nth * 1000:.2f} ms = {powers * t_nth:.2f} s")
    weights = [secrets.randbits(64) | 1 for _ in range(branches)]
    residues = [mpz(secrets.randbelow(pk.n)) for _ in range(branches)]
    integers = [secrets.randbits(s0) for _ in range(branches)]
    t_res, _ = timed(lambda: powmod(multi_exp(residues, weights, n), n, n2), repeat=3)
    t_int, _ = timed(lambda: pk.short_power_verify(sum(d * z for d, z in zip(weights, integers))), repeat=3)
    print(f"  batch z-part, one ballot: residue responses (∏ z^δ mod n, then ^n) {t_res * 1000:.1f} ms; "
          f"integer responses (h_s^(Σ δ·z)) {t_int * 1000:.1f} ms")


def bench_decrypt(key: ElectionPublicKey, shares: list[TrusteeShare], count: int) -> None:
    pk = key.public_key
    cts = [int(encrypt(pk, i, random_unit(pk.n))) for i in range(count)]
    t_share, share = timed(lambda: compute_decryption_share(shares[0], "e", "c", cts))
    t_verify, _ = timed(lambda: verify_decryption_share(key, "e", "c", cts, share))
    print(f"\nthreshold decryption ({count} candidates, one trustee, one core)")
    print(f"  decryption share + proof       {t_share / count * 1000:8.1f} ms/candidate ({t_share:.2f} s total)")
    print(f"  verify share proof             {t_verify / count * 1000:8.1f} ms/candidate")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    key, shares = load_key(args.bits)
    for candidates in (228, 65):
        bench_contest(key, candidates, 7, args.processes)
    bench_decrypt(key, shares, 65)


if __name__ == "__main__":
    main()
