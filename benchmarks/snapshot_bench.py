"""Snapshot verification benchmark (issue 23, docs/record.md §3.3): ballots per second per core
of ``python -m verifier --snapshot`` (check 9, the same batch code path as a record's check 9),
next to ``tally preverify`` on the same snapshot.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/snapshot_bench.py [--ballots 24] [--bits 2048]
[--candidates 228] [--k 7] [--processes 1]``.  The board is made by the test board builder
(tests/support/board_builder.py: real ballots, voter signatures, signed checkpoints) with the
election key cached in ``/tmp/ssb_vote_bench_key_v2_<bits>.json`` (shared with the other
benchmarks); the snapshot is the board cut at its last signed checkpoint.  Output, one line per
figure (stable format)::

    snapshot_bench: <n> ballots, <bits>-bit n, <k>-of-<candidates>, <p> process(es)
    verifier --snapshot   proofs: <s> s  <r> ballots/s per core   (all checks: <s> s)
    tally preverify       whole run: <s> s  <r> ballots/s per core
    ratio verifier/tally: <x>
    cpu verifier proofs: <s> s  <r> ballots/s per core
    cpu tally proofs:    <s> s  <r> ballots/s per core
    cpu ratio verifier/tally: <x>

The first lines are wall-clock; the ``cpu`` lines are CPU seconds of this process and its pool
workers spent on the proofs alone (a run with every proof minus a run with none: for the
verifier ``proofs_after`` = N, for the tally a second ``preverify`` whose FILE already holds
every ballot), the steadier figure on a shared machine.  The board is cached in
``/tmp/ssb_snapshot_bench_<bits>_<candidates>_<k>_<ballots>/`` (building it is the slow part).
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crypto.ceremony import generate_election_key  # noqa: E402
from crypto.threshold import ElectionPublicKey, TrusteeShare  # noqa: E402
from tally.preverify import preverify  # noqa: E402
from tests.support.board_builder import build_board_export, builder_manifest, read_jsonl  # noqa: E402
from verifier.checks import Options, verify_snapshot  # noqa: E402


def load_key(bits: int) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    cache = Path(f"/tmp/ssb_vote_bench_key_v2_{bits}.json")  # shared with the other benchmarks
    test = bits < 2048
    if not cache.exists():
        print(f"generating a {bits}-bit election key (minutes at 2048 bits) ...", file=sys.stderr)
        key, shares = generate_election_key(bits, ["t1", "t2", "t3", "t4", "t5"], 3,
                                            allow_insecure_test_key=test)
        cache.write_text(json.dumps({"key": key.to_dict(), "shares": [s.to_dict() for s in shares]}))
    data = json.loads(cache.read_text())
    return (ElectionPublicKey.from_dict(data["key"], allow_insecure_test_key=test),
            [TrusteeShare.from_dict(s, allow_insecure_test_key=test) for s in data["shares"]])


def make_snapshot(base: Path, ballots: int, bits: int, candidates: int, k: int) -> tuple[Path, str]:
    key = load_key(bits)
    manifest = builder_manifest(insured_candidates=candidates, employer_candidates=candidates,
                                k_insured=k, k_employer=k)
    board = build_board_export(base / "board", insured=ballots - ballots // 2,
                               employers=ballots // 2, revote_rate=0.0, paper=0, non_voters=0,
                               checkpoint_every=1, manifest=manifest, election_key=key,
                               trustees=5, threshold=3)
    snap = base / "snapshot"
    (snap / "board").mkdir(parents=True)
    for name in ("manifest.json", "election_key.json", "board_key.json", "opening.json",
                 "credentials.json", "revocations.jsonl"):
        shutil.copy(board.path / name, snap / name)
    cps = [cp for cp in read_jsonl(board.checkpoints_path) if not cp["final"]]
    cut = cps[-1]["seq"]  # the snapshot ends at the last signed checkpoint (record.md §3.1)
    for name in ("board/entries.jsonl", "board/ballots.jsonl"):
        lines = (board.path / name).read_bytes().splitlines(keepends=True)
        (snap / name).write_bytes(b"".join(lines[:cut]))
    (snap / "board" / "checkpoints.jsonl").write_text(
        "".join(json.dumps(cp, sort_keys=True, separators=(",", ":")) + "\n" for cp in cps))
    return snap, board.ca_public_key_hex


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ballots", type=int, default=24)
    p.add_argument("--bits", type=int, default=2048)
    p.add_argument("--candidates", type=int, default=228)
    p.add_argument("--k", type=int, default=7)
    p.add_argument("--processes", type=int, default=1)
    args = p.parse_args()
    base = Path(f"/tmp/ssb_snapshot_bench_{args.bits}_{args.candidates}_{args.k}_{args.ballots}")
    if not (base / "ca-key.hex").exists():
        shutil.rmtree(base, ignore_errors=True)
        print("building the board (real ballots) ...", file=sys.stderr)
        snap, ca_key = make_snapshot(base, args.ballots, args.bits, args.candidates, args.k)
        (base / "ca-key.hex").write_text(ca_key)
    snap, ca_key = base / "snapshot", (base / "ca-key.hex").read_text()
    with tempfile.TemporaryDirectory(prefix="ssb-snapshot-bench-") as tmp:
        options = Options(processes=args.processes, allow_test_key=args.bits < 2048,
                          ca_key=bytes.fromhex(ca_key))
        start = time.perf_counter()
        verification = verify_snapshot(snap, options)
        whole = time.perf_counter() - start
        failed = [r.name for r in verification.results if not r.passed]
        if failed:
            raise SystemExit(f"the snapshot did not verify: {failed} " + str(
                [f for r in verification.results if not r.passed for f in r.failures][:3]))
        proofs = next(r for r in verification.results if r.name == "ballots.proofs")
        seconds = float(proofs.notes[0].params["seconds"])
        count = int(proofs.notes[0].params["count"])
        start = time.perf_counter()
        known = Path(tmp) / "preverified.txt"
        preverify(snap, known, processes=args.processes,
                  allow_insecure_test_key=args.bits < 2048, show_progress=False)
        tally_seconds = time.perf_counter() - start
        per_core = args.processes
        v_rate = count / seconds / per_core
        t_rate = count / tally_seconds / per_core
        print(f"snapshot_bench: {count} ballots, {args.bits}-bit n, {args.k}-of-{args.candidates}, "
              f"{args.processes} process(es)")
        print(f"verifier --snapshot   proofs: {seconds:.2f} s  {v_rate:.2f} ballots/s per core   "
              f"(all checks: {whole:.2f} s)")
        print(f"tally preverify       whole run: {tally_seconds:.2f} s  {t_rate:.2f} ballots/s per core")
        print(f"ratio verifier/tally: {v_rate / t_rate:.2f}")

        def cpu_of(run: Callable[[], object]) -> float:
            before = _cpu()
            run()
            return _cpu() - before

        entries = len((snap / "board/entries.jsonl").read_bytes().splitlines())
        v_all = cpu_of(lambda: verify_snapshot(snap, Options(**vars(options))))
        v_none = cpu_of(lambda: verify_snapshot(snap, Options(**{**vars(options),
                                                                   "proofs_after": entries})))
        fresh = Path(tmp) / "fresh.txt"
        t_all = cpu_of(lambda: preverify(snap, fresh, processes=args.processes,
                                         allow_insecure_test_key=args.bits < 2048,
                                         show_progress=False))
        t_none = cpu_of(lambda: preverify(snap, fresh, processes=args.processes,
                                          allow_insecure_test_key=args.bits < 2048,
                                          show_progress=False))
        v_cpu, t_cpu = v_all - v_none, t_all - t_none
        print(f"cpu verifier proofs: {v_cpu:.2f} s  {count / v_cpu:.2f} ballots/s per core")
        print(f"cpu tally proofs:    {t_cpu:.2f} s  {count / t_cpu:.2f} ballots/s per core")
        print(f"cpu ratio verifier/tally: {t_cpu / v_cpu:.2f}")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (pool workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
