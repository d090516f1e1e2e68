"""Tally at scale: ``tally prepare`` on board exports of N valid 7-of-228 ballots at 2048-bit n.

Run: ``.venv/bin/python benchmarks/tally_scale.py [--sizes 1000,3000,10000] [--processes 2]
[--verify-max 1000] [--scheduler tcp://host:8786]``.

For each N: writes a closed board export of N ballots of N distinct voters (streamed to disk,
~1 MB per ballot), runs ``python -m tally prepare --hardlink`` in a subprocess and reports the
seconds, ballots/s (total and per core) and the peak RSS of the prepare process tree (sampled
from /proc), then deletes the export.  For N ≤ ``--verify-max`` it also finishes the election
(2 of 3 trustees decrypt, ``tally finish``) and runs the independent verifier
``python -m verifier`` on the record, and checks the published counts against the intended
votes.  At the end: a least-squares line seconds = a + b·N (linear growth) and the
extrapolation to 1,000,000 ballots on 2 and 8 cores.

``--preverified``: also time the count as it runs when ``tally preverify`` has checked the
ballots from snapshots while the polls were open (docs/record.md §3.1): ``tally preverify`` on
the export (the work done during polling), then ``tally prepare --preverified`` (the work left
after the close), each with its own line and 1,000,000-ballot extrapolation.

**Valid ballots.**  A worker makes a few selection-independent precomputations
(docs/protocol.md §5.7, crypto.precompute_contest: with protocol version 3's short exponents and
the fixed-base table of h_s, well under a second each) and then encrypts every ballot with the
real prover (crypto.encrypt_contest) from one of them: each ballot has its own pseudonym and
credential (record format 2: tally_bench.bench_voter_key), hence its own Fiat–Shamir challenges
and responses, while ballots made from the same precomputation share ciphertext values.  The
verifier's work is the same as for independent ballots (the multi-exponentiation does not look
for equal bases).  The election key is a real 2048-bit threshold key (cached in
/tmp, shared with crypto_bench.py / verifier_bench.py), so the record can be decrypted and
verified.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import tally_bench as tb  # noqa: E402
from crypto import ContestStatement, encrypt_contest, precompute_contest  # noqa: E402
from crypto.ballot import ContestPrecomputation  # noqa: E402
from crypto.ceremony import generate_election_key, write_encrypted_share  # noqa: E402
from crypto.encoding import canonical_json  # noqa: E402
from crypto.kdf import BallotKdf  # noqa: E402
from crypto.threshold import ElectionPublicKey, TrusteeShare  # noqa: E402

CONTEST = tb.CONTEST
CANDIDATES, K = 228, 7
PRECOMPUTATIONS_PER_WORKER = 3
TRUSTEES, THRESHOLD = 3, 2


def load_key(bits: int) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    test_key = bits < 2048
    cache = Path(f"/tmp/ssb_vote_bench_key_v2_{bits}.json")  # shared with crypto_bench.py, verifier_bench.py
    if cache.exists():
        data = json.loads(cache.read_text())
        shares = [TrusteeShare.from_dict(s, allow_insecure_test_key=test_key) for s in data["shares"]]
        if len(shares) >= THRESHOLD:
            return ElectionPublicKey.from_dict(data["key"], allow_insecure_test_key=test_key), shares
    print(f"generating a {bits}-bit threshold key (safe primes; minutes at 2048 bits) ...", file=sys.stderr)
    key, shares = generate_election_key(bits, [f"trustee-{i}" for i in range(1, TRUSTEES + 1)], THRESHOLD,
                                        allow_insecure_test_key=test_key)
    cache.write_text(json.dumps({"key": key.to_dict(), "shares": [s.to_dict() for s in shares]}))
    return key, shares


# --- ballot generation (worker processes) -------------------------------------------------------

_PRE: list[ContestPrecomputation] = []


def _precomputation(seed: bytes) -> ContestPrecomputation:
    """A selection-independent precomputation (protocol.md §5.7) for a placeholder voter; the
    ballots re-bind it to their own context (the precomputed powers do not depend on it)."""
    statement = ContestStatement(tb._W["pk"], tb._W["election_id"], CONTEST, "precomputation", CANDIDATES, K)
    return precompute_contest(statement, seed)


def _init_worker(n: int, election_id: str) -> None:
    tb._init(n, election_id)
    _PRE.extend(_precomputation(secrets.token_bytes(32)) for _ in range(PRECOMPUTATIONS_PER_WORKER))


def _make_ballot(job: tuple[str, list[int], int]) -> tuple[str, bytes, list[int]]:
    pseudonym, selections, which = job
    pk, election_id = tb._W["pk"], tb._W["election_id"]
    statement = ContestStatement(pk, election_id, CONTEST, tb.bench_party(pseudonym), len(selections), K)
    pre = dataclasses.replace(_PRE[which % len(_PRE)], ctx=BallotKdf.create(statement, bytes(32)).ctx)
    ballot = encrypt_contest(statement, selections, bytes(32), precomputed=pre)
    return pseudonym, canonical_json(ballot.to_dict()), selections


def _jobs(count: int, seed: int) -> Iterator[tuple[str, list[int], int]]:
    rng = random.Random(seed)
    seen: set[str] = set()
    for _ in range(count):
        pseudonym = f"{rng.getrandbits(128):032x}"
        while pseudonym in seen:  # distinct voters
            pseudonym = f"{rng.getrandbits(128):032x}"
        seen.add(pseudonym)
        chosen = set(rng.sample(range(CANDIDATES), rng.randint(0, K)))
        yield pseudonym, [int(j in chosen) for j in range(CANDIDATES)], rng.randrange(1 << 30)


def write_export(path: Path, key: ElectionPublicKey, count: int, processes: int, seed: int) -> tuple[list[int], str]:
    """Stream a closed board export of ``count`` ballots to ``path``; return the intended totals and the CA's
    public key (for the verifier's --ca-key)."""
    manifest_bytes = canonical_json(tb.manifest(CANDIDATES, K))
    election_id = hashlib.sha256(manifest_bytes).hexdigest()
    totals = [0] * CANDIDATES

    def casts() -> Iterator[tuple[str, bytes]]:
        start = time.perf_counter()
        with ProcessPoolExecutor(processes, initializer=_init_worker, initargs=(key.public_key.n, election_id)) as pool:
            results = pool.map(_make_ballot, _jobs(count, seed), chunksize=8)
            for seq, (pseudonym, ballot, selections) in enumerate(results, start=1):
                for i, m in enumerate(selections):
                    totals[i] += m
                if seq % 500 == 0:
                    print(f"    generated {seq}/{count} ballots ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
                yield pseudonym, ballot

    pseudonyms = [job[0] for job in _jobs(count, seed)]  # the voters, for the CA's credential list
    ca_key = tb.write_closed_export(
        path, manifest_bytes, canonical_json(key.to_dict()), pseudonyms, casts(),
        lambda seq: f"2026-12-20T{1 + seq // 3600 % 8:02d}:{seq // 60 % 60:02d}:{seq % 60:02d}.000000Z")
    return totals, ca_key


# --- measurement -----------------------------------------------------------------------------------

def _tree_rss_kib(root: int) -> tuple[int, int]:
    """(sum, max) VmRSS in KiB over ``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields.get("PPid", "0").strip() or 0), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total = peak = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        peak = max(peak, rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total, peak


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """Run ``cmd``; return (seconds, peak tree RSS KiB, peak single-process RSS KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peaks = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total, single = _tree_rss_kib(proc.pid)
            peaks[0], peaks[1] = max(peaks[0], total), max(peaks[1], single)
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return elapsed, peaks[0], peaks[1], out.decode()


def finish_and_verify(root: Path, work: Path, key: ElectionPublicKey, shares: list[TrusteeShare], totals: list[int], test_key: bool,
                      processes: int, env: dict[str, str], ca_key: str) -> dict[str, Any]:
    from tally.finish import finish
    from tally.prepare import ENCRYPTED_TALLY
    from tally.trustee import decrypt

    share_files = []
    for share in shares[:key.threshold]:
        secret = root / f"trustee-{share.index}.share.json"
        write_encrypted_share(secret, share, "bench", scrypt_log2_n=14)
        out = root / f"decryption-{share.index}.json"
        decrypt(secret, work / ENCRYPTED_TALLY, out, "bench", allow_insecure_test_key=test_key)
        share_files.append(out)
    record = root / "record"
    start = time.perf_counter()
    finish(work, share_files, record, allow_insecure_test_key=test_key, hardlink=True)
    finish_s = time.perf_counter() - start
    results = json.loads((record / "results.json").read_bytes())
    votes = results["contests"][CONTEST]
    published = [c.get("votes") for c in votes.get("candidates", [])] if isinstance(votes, dict) else None
    cmd = [sys.executable, "-m", "verifier", str(record), "--json", "--progress", "never",
           "--processes", str(processes), "--ca-key", ca_key] + (["--allow-test-key"] if test_key else [])
    seconds, rss_total, _, out = run_measured(cmd, env)
    report = json.loads(out)
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    return {"finish_s": finish_s, "verifier_s": seconds, "verifier_rss_mib": rss_total / 1024,
            "verifier_failed": failed, "counts_match": published == totals if published else None}


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000", help="comma-separated numbers of ballots")
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="prepare (and generator) processes")
    parser.add_argument("--scheduler", default=None, help="run prepare on this Dask scheduler instead")
    parser.add_argument("--verify-max", type=int, default=1000,
                        help="finish + run the independent verifier for sizes up to this")
    parser.add_argument("--tmp", default=tempfile.gettempdir(), help="where to write exports (deleted after each size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--preverified", action="store_true",
                        help="also time tally preverify and the prepare left after the close (§3.1)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    test_key = args.bits < 2048
    key, shares = load_key(args.bits)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    free = shutil.disk_usage(args.tmp).free
    need = max(sizes) * 1.05e6 * 1.1
    print(f"disk: {free / 1e9:.0f} GB free in {args.tmp}; the largest export needs ~{need / 1e9:.1f} GB")
    if need > free * 0.8:
        raise SystemExit("not enough disk for the largest size: lower --sizes")
    rows = []
    for size in sizes:
        root = Path(tempfile.mkdtemp(prefix="ssb_tally_scale_", dir=args.tmp))
        try:
            start = time.perf_counter()
            totals, ca_key = write_export(root / "export", key, size, args.processes, args.seed + size)
            gen_s = time.perf_counter() - start
            mb = (root / "export/board/ballots.jsonl").stat().st_size / 1e6
            cmd = [sys.executable, "-m", "tally", "prepare", str(root / "export"), "--work", str(root / "work"),
                   "--hardlink", "--quiet"]
            cmd += ["--scheduler", args.scheduler] if args.scheduler else ["--processes", str(args.processes)]
            if test_key:
                cmd.append("--allow-insecure-test-key")
            load_before = os.getloadavg()[0]
            seconds, rss_total, rss_single, out = run_measured(cmd, env)
            load_after = os.getloadavg()[0]
            assert f"Contest {CONTEST}: {size} ballots counted" in out, out
            row = {"ballots": size, "MB": round(mb), "generate_s": round(gen_s, 1), "prepare_s": round(seconds, 2),
                   "ballots_per_s": round(size / seconds, 2),
                   "per_core": round(size / seconds / args.processes, 2),
                   "peak_rss_tree_mib": round(rss_total / 1024), "peak_rss_process_mib": round(rss_single / 1024),
                   "load_avg": [round(load_before, 1), round(load_after, 1)]}
            if args.preverified:
                known = root / "preverified.txt"
                pre_cmd = [sys.executable, "-m", "tally", "preverify", str(root / "export"), "--preverified", str(known),
                           "--quiet", "--processes", str(args.processes)] + (["--allow-insecure-test-key"] if test_key else [])
                pre_s, _, _, _ = run_measured(pre_cmd, env)
                after_cmd = [sys.executable, "-m", "tally", "prepare", str(root / "export"), "--work",
                             str(root / "work-preverified"), "--hardlink", "--quiet", "--processes", str(args.processes),
                             "--preverified", str(known)] + (["--allow-insecure-test-key"] if test_key else [])
                after_s, after_rss, _, out = run_measured(after_cmd, env)
                assert f"Pre-verified during polling: {size} counted ballots" in out, out
                same = ((root / "work/tally/encrypted_tally.json").read_bytes()
                        == (root / "work-preverified/tally/encrypted_tally.json").read_bytes())
                row.update({"preverify_s": round(pre_s, 2), "after_close_s": round(after_s, 2),
                            "after_close_rss_tree_mib": round(after_rss / 1024), "same_tally": same})
            if size <= args.verify_max:
                row.update(finish_and_verify(root, root / "work", key, shares, totals, test_key, args.processes, env,
                                             ca_key))
            rows.append(row)
            print(json.dumps(row), flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    print(f"\n{'ballots':>8} {'prepare s':>10} {'ballots/s':>10} {'per core':>9} {'peak RSS (tree/process) MiB':>28}")
    for row in rows:
        print(f"{row['ballots']:>8} {row['prepare_s']:>10.1f} {row['ballots_per_s']:>10.1f} {row['per_core']:>9.1f} "
              f"{row['peak_rss_tree_mib']:>18} / {row['peak_rss_process_mib']}")
    if len(rows) >= 2:
        xs = [r["ballots"] for r in rows]
        ys = [r["prepare_s"] for r in rows]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        intercept = my - slope * mx
        per_core = 1 / (slope * args.processes)
        print(f"linear fit: seconds = {intercept:.1f} + {slope * 1000:.2f} ms × N  "
              f"(marginal {1 / slope:.1f} ballots/s on {args.processes} processes = {per_core:.1f} per core)")
        for cores in (2, 8):
            hours = (intercept + 1e6 / (per_core * cores)) / 3600
            print(f"  1,000,000 ballots on {cores} cores: ≈ {hours:.1f} h (if the per-core rate holds)")
        if args.preverified:
            for label, field in (("tally preverify (during polling)", "preverify_s"),
                                 ("prepare --preverified (after the close)", "after_close_s")):
                ys2 = [r[field] for r in rows]
                my2 = sum(ys2) / len(ys2)
                slope2 = sum((x - mx) * (y - my2) for x, y in zip(xs, ys2)) / sum((x - mx) ** 2 for x in xs)
                base2 = my2 - slope2 * mx
                print(f"{label}: seconds = {base2:.1f} + {slope2 * 1000:.2f} ms × N on {args.processes} processes; "
                      f"1,000,000 ballots ≈ {(base2 + slope2 * 1e6) / 3600:.2f} h on {args.processes} cores, "
                      f"≈ {(base2 + slope2 * 1e6 * args.processes / 8) / 3600:.2f} h on 8")
        print(f"  board of 1,000,000 ballots: ≈ {rows[-1]['MB'] / rows[-1]['ballots']:.2f} TB of ballots.jsonl; "
              f"memory stays at the peak RSS above (streaming, bounded chunks in flight)")


if __name__ == "__main__":
    main()
