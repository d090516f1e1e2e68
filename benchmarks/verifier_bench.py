"""Verifier benchmark (docs/record.md check 9): seconds per 7-of-228 ballot at 2048-bit n.

Run: ``.venv/bin/python benchmarks/verifier_bench.py [--ballots 50] [--bits 2048]``.
Ballots are made with crypto/ (benchmarks may import it; verifier/ never does) and cached in
/tmp; the verifier then checks them batched on 1 and 2 processes, and a few per proof, and the
script extrapolates to 10,000 ballots on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crypto.ballot import encrypt_contest  # noqa: E402
from crypto.ceremony import generate_election_key  # noqa: E402
from crypto.threshold import ElectionPublicKey  # noqa: E402
from verifier import arith  # noqa: E402
from verifier.batch import BallotJob  # noqa: E402
from verifier.parallel import verify_ballots  # noqa: E402

ELECTION, CONTEST = "bench-election", "insured"


def load_key(bits: int) -> ElectionPublicKey:
    cache = Path(f"/tmp/ssb_vote_bench_key_{bits}.json")  # shared with crypto_bench.py
    if cache.exists():
        data = json.loads(cache.read_text())
        return ElectionPublicKey.from_dict(data["key"], allow_insecure_test_key=bits < 2048)
    key, shares = generate_election_key(bits, ["t1", "t2", "t3", "t4", "t5"], 3,
                                        allow_insecure_test_key=bits < 2048)
    cache.write_text(json.dumps({"key": key.to_dict(), "shares": [s.to_dict() for s in shares]}))
    return key


def _make(args: tuple[dict[str, Any], int, int, int, int]) -> dict[str, Any]:
    key_dict, index, candidates, k, bits = args
    key = ElectionPublicKey.from_dict(key_dict, allow_insecure_test_key=bits < 2048)
    chosen = set(secrets.SystemRandom().sample(range(candidates), k))
    selections = [1 if i in chosen else 0 for i in range(candidates)]
    ballot = encrypt_contest(key.public_key, ELECTION, CONTEST, f"voter-{index:05d}",
                             selections, k, secrets.token_bytes(32))
    return ballot.to_dict()


def load_ballots(key: ElectionPublicKey, count: int, candidates: int, k: int, bits: int,
                 processes: int) -> list[dict[str, Any]]:
    cache = Path(f"/tmp/ssb_vote_verifier_bench_{bits}_{candidates}_{k}.json")
    have: list[dict[str, Any]] = []
    if cache.exists():
        data = json.loads(cache.read_text())
        if data["n"] == key.to_dict()["n"]:
            have = data["ballots"]
    if len(have) < count:
        print(f"making {count - len(have)} ballots with crypto/ ({processes} processes)…",
              file=sys.stderr)
        jobs = [(key.to_dict(), i, candidates, k, bits) for i in range(len(have), count)]
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            have += pool.map(_make, jobs)
        cache.write_text(json.dumps({"n": key.to_dict()["n"], "ballots": have}))
    return have[:count]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ballots", type=int, default=50)
    p.add_argument("--bits", type=int, default=2048)
    p.add_argument("--candidates", type=int, default=228)
    p.add_argument("--k", type=int, default=7)
    p.add_argument("--per-proof", type=int, default=2, help="ballots to verify per proof")
    p.add_argument("--pure-python", action="store_true")
    args = p.parse_args()
    if args.pure_python:
        arith.use_gmpy2(False)
    key = load_key(args.bits)
    n = int(key.to_dict()["n"], 16)
    ballots = load_ballots(key, args.ballots, args.candidates, args.k, args.bits,
                           max(1, multiprocessing.cpu_count()))
    jobs = [BallotJob(i + 1, CONTEST, f"voter-{i:05d}", args.candidates, args.k, b)
            for i, b in enumerate(ballots)]
    print(f"verifier benchmark: {len(jobs)} ballots, {args.k}-of-{args.candidates}, "
          f"{n.bit_length()}-bit n, backend {arith.BACKEND}, {multiprocessing.cpu_count()} CPUs")
    rows = []
    for label, processes, batched, subset in (
            ("batched, 1 process", 1, True, jobs),
            ("batched, 2 processes", 2, True, jobs),
            ("per proof, 1 process", 1, False, jobs[:args.per_proof])):
        start = time.perf_counter()
        verdicts = verify_ballots(n, ELECTION, subset, processes=processes, batched=batched)
        seconds = time.perf_counter() - start
        assert all(v.ok for v in verdicts), [v for v in verdicts if not v.ok][:1]
        per = seconds / len(subset)
        rows.append((label, per))
        print(f"  {label:22s} {len(subset):4d} ballots {seconds:8.2f} s  {per:7.3f} s/ballot")
    two = dict(rows)["batched, 2 processes"]
    print(f"extrapolation: 10,000 ballots on 2 cores ≈ {two * 10_000 / 60:.1f} min "
          f"({two * 10_000:.0f} s); per proof on 1 core ≈ "
          f"{dict(rows)['per proof, 1 process'] * 10_000 / 3600:.1f} h")


if __name__ == "__main__":
    main()
