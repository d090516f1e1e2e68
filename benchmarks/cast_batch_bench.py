"""Cost of proof verification per ballot against batch size (7-of-228 at 2048-bit n).

Run: ``.venv/bin/python benchmarks/cast_batch_bench.py [--sizes 1,2,3,4,6,8,16,64,256]``.

The cast API's verifier thread (app/services/voting/verification.py) checks the casts that arrive
together in one batch across ballots (docs/protocol.md §7.3); the tally checks chunks of up to
256 (tally/prepare.py).  This prints, for each batch size, the CPU seconds per ballot of
``crypto.verify_many`` — the function both call (best of a few runs, this process only, so a busy
machine inflates it less than wall time) and the ratio to a ballot verified alone.  Ballots are
the valid ballots of tally_bench.py (cached in /tmp).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tally_bench as tb  # noqa: E402
from crypto import ContestStatement, PublicKey, verify_many  # noqa: E402
from crypto.ballot import parse_canonical_ballot  # noqa: E402
from crypto.encoding import canonical_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,2,3,4,6,8,16,64,256")
    parser.add_argument("--bits", type=int, default=2048)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    man = tb.manifest(228, 7)
    tb.manifest_cache.update(man)
    election_id = hashlib.sha256(canonical_json(man)).hexdigest()
    n = tb.load_modulus(args.bits)
    raw = tb.load_ballots(n, election_id, max(sizes), 228, 7, os.cpu_count() or 1)
    pk = PublicKey(n, allow_insecure_test_key=args.bits < 2048)
    ballots = []
    for pseudonym, data in raw:
        ballot = parse_canonical_ballot(data, pk, 228, 7)
        assert ballot is not None
        ballots.append((pseudonym, ballot))
    print(f"verification cost per ballot, 7-of-228 at {args.bits}-bit n, one core "
          f"(load average {os.getloadavg()[0]:.1f})")
    alone = None
    for size in sizes:
        best = float("inf")
        for _ in range(3 if size <= 16 else 1):
            started = time.process_time()
            assert verify_many((ContestStatement(pk, election_id, tb.CONTEST, tb.bench_party(pseudonym), 228, 7), ballot)
                               for pseudonym, ballot in ballots[:size]) == {}
            best = min(best, (time.process_time() - started) / size)
        alone = alone or best
        print(f"  batch of {size:3d}: {best * 1000:6.1f} ms CPU per ballot  ({best / alone:.2f} × alone)")


if __name__ == "__main__":
    main()
