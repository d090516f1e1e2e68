"""Verifier benchmark (docs/record.md check 9): seconds per 7-of-228 ballot at 2048-bit n.

Run: ``.venv/bin/python benchmarks/verifier_bench.py [--ballots 50] [--bits 2048]``.
Ballots are made with crypto/ (benchmarks may import it; verifier/ never does) and cached in
/tmp; the verifier then checks them batched on 1 and 2 processes, and a few per proof, and the
script extrapolates to 10,000 ballots on 2 cores.  Each row reports wall seconds and CPU seconds
(this process and its pool workers: the machine may be shared, CPU time is the steadier figure),
and the last line the peak RSS of this process and of the largest pool worker.

``--fast`` takes the ballots instead from benchmarks/tally_bench.py's cache of *fast valid
ballots* (``/tmp/ssb_tally_bench_ballots_*.jsonl``, made there if missing: genuine proofs whose
prover randomness is cheap to make, see that module; a plain 2048-bit modulus), so a few hundred
ballots cost nothing to make.  The jobs then point at lines of that file, as check 9 points at
lines of board/ballots.jsonl: each worker reads and parses its chunk's ballots itself.
``--batch-size`` overrides the verifier's ballots per batch (default: its own choice).  For
before/after numbers, run this script from a ``git worktree`` of the older commit (copy it
there: it needs only ``verify_ballots`` and ``BallotJob`` of the verifier).

Board scale (memory): ``… verifier_bench.py --board-entries 1000000 [--voters 200]
[--verifier-root DIR] [--processes 1]`` builds (once, cached in /tmp) a complete, valid record
whose board has that many entries and runs ``python -m verifier`` on it in a subprocess,
reporting seconds and peak RSS (ru_maxrss of the verifier and its workers, from wait4).  The
record (format version 2) is built from a small one (``--voters`` voters, 512-bit test key, two
1-of-1 contests) that goes through the real tally: every voter then casts round after round a
fresh ballot (its own party ``<pseudonym>/<credential>``; a distinct ``ballot_hash``, as check 20
requires; made in a process pool, ~3 ms each), each signed with the voter's credential key
(from the board builder's fixture) with ``previous`` chaining.  Each voter's last ballot is the
one the small record counted, so the encrypted tally, decryption shares and results stay
valid; counted.json, the chain, the checkpoints (re-signed with the board key) and HASHES.json
are rewritten.  Every check runs on every entry (check 9 verifies all N ballots).  The CA key
is given to the verifier with ``--ca-key`` (``<record>/../ca-key.hex``).
``--verifier-root`` runs the verifier of another checkout (e.g. a ``git worktree`` of an older
commit) on the same record, for before/after numbers.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import secrets
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))  # tally_bench (--fast)

from crypto import ContestStatement, encrypt_contest  # noqa: E402
from crypto.credential import ballot_party  # noqa: E402
from crypto.ceremony import generate_election_key  # noqa: E402
from crypto.encoding import canonical_json  # noqa: E402
from crypto.threshold import ElectionPublicKey  # noqa: E402
from election.board import Chain, checkpoint, iso_utc  # noqa: E402
from election.export import BoardItem, write_board  # noqa: E402
from election.record import COUNTED, HASHES, hashes  # noqa: E402
from election.signed import sign  # noqa: E402
from tests.support.board_builder import Casting  # noqa: E402
from verifier import arith  # noqa: E402
from verifier.batch import BallotJob  # noqa: E402
from verifier.parallel import verify_ballots  # noqa: E402

ELECTION, CONTEST = "bench-election", "insured"
ROOT = Path(__file__).resolve().parents[1]


def load_key(bits: int) -> ElectionPublicKey:
    cache = Path(f"/tmp/ssb_vote_bench_key_v2_{bits}.json")  # shared with crypto_bench.py
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
    statement = ContestStatement(key.public_key, ELECTION, CONTEST, f"voter-{index:05d}", candidates, k)
    ballot = encrypt_contest(statement, selections, secrets.token_bytes(32))
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


def _clock() -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and of its waited-for children — the pool
    workers, which are joined when the pool closes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.perf_counter(),
            time.process_time() + usage.ru_utime + usage.ru_stime)


def fast_jobs(count: int, candidates: int, k: int, bits: int
              ) -> tuple[int, str, list[BallotJob], str]:
    """(n, election id, jobs, path): ``count`` ballots from tally_bench.py's cache file, each job
    pointing at its line ({"ballot": …, "pseudonym": …}); the file is only scanned here."""
    import tally_bench

    election_id = hashlib.sha256(canonical_json(tally_bench.manifest(candidates, k))).hexdigest()
    n = tally_bench.load_modulus(bits)
    cache = tally_bench.ballot_cache(n, election_id, candidates, k)

    def index() -> list[BallotJob]:
        jobs: list[BallotJob] = []
        if not cache.exists():
            return jobs
        offset = 0
        with open(cache, "rb") as handle:
            for line in handle:
                body = line.rstrip(b"\n")
                pseudonym = body.rsplit(b'"pseudonym":"', 1)[1][:-2].decode()
                jobs.append(BallotJob(len(jobs) + 1, CONTEST, tally_bench.bench_party(pseudonym), candidates,
                                      k, None, offset, len(body)))
                offset += len(line)
                if len(jobs) == count:
                    break
        return jobs

    jobs = index()
    if len(jobs) < count:
        tally_bench.load_ballots(n, election_id, count, candidates, k,
                                 max(1, multiprocessing.cpu_count()))
        jobs = index()
    return n, election_id, jobs, str(cache)


# --- board scale: a record with many entries, verified in a subprocess -------------------------

def _tally(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "tally", *args, "--allow-insecure-test-key"], cwd=ROOT,
                   check=True, capture_output=True, timeout=600)


def build_small_record(base: Path, voters: int) -> Any:
    """Board export (tests/support/board_builder.py) → tally prepare / decrypt / finish."""
    from tests.support.board_builder import build_board_export, builder_manifest
    manifest = builder_manifest("board-scale", 1, 1, 1, 1)
    fx = build_board_export(base / "board", shares_dir=base / "trustees", insured=voters // 2,
                            employers=voters - voters // 2, revote_rate=0.0, paper=2, trustees=3,
                            threshold=2, key_bits=512, seed=7, checkpoint_every=0,
                            manifest=manifest)
    _tally("prepare", str(fx.path), "--work", str(base / "work"), "--quiet", "--processes", "1")
    shares = []
    for i, (share, passphrase) in enumerate(zip(fx.share_files, fx.passphrases), start=1):
        (base / f"pass-{i}").write_text(passphrase)
        out = base / f"trustee-{i}.json"
        _tally("trustee", "decrypt", "--share", str(share), "--tally",
               str(base / "work/tally/encrypted_tally.json"), "--out", str(out),
               "--passphrase-file", str(base / f"pass-{i}"))
        shares += ["--shares", str(out)]
    _tally("finish", "--work", str(base / "work"), *shares, "--record", str(base / "record"))
    return fx


_RECAST: dict[str, Any] = {}


def _recast_init(key: dict[str, Any], election_id: str) -> None:
    _RECAST.update(pk=ElectionPublicKey.from_dict(key, allow_insecure_test_key=True).public_key,
                   election_id=election_id)


def _recast(job: tuple[str, str, str, int]) -> bytes:
    """A fresh valid 1-of-1 ballot of ``(contest, pseudonym, credential, round)`` (canonical JSON)."""
    contest, pseudonym, credential, index = job
    statement = ContestStatement(_RECAST["pk"], _RECAST["election_id"], contest, ballot_party(pseudonym, credential),
                                 1, 1)
    seed = hashlib.sha256(f"{index}|{pseudonym}".encode()).digest()
    return canonical_json(encrypt_contest(statement, [index % 2], seed).to_dict())


def build_board_record(dest: Path, entries: int, voters: int, processes: int = 0) -> Path:
    """A valid record of ``entries`` board entries (rounded up to whole rounds of ``voters``)."""
    record = dest / "record"
    if (record / "HASHES.json").exists():
        return record
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    small = dest / "small"
    fx = build_small_record(small, voters)
    (dest / "ca-key.hex").write_text(fx.ca_public_hex + "\n")
    src = small / "record"
    shutil.copytree(src, record)
    base_entries = [json.loads(x) for x in (src / "board/entries.jsonl").read_bytes().splitlines()]
    ballots = [canonical_json(json.loads(x)["ballot"])
               for x in (src / "board/ballots.jsonl").read_bytes().splitlines()]
    paper = set(json.loads((src / "paper_overrides.json").read_bytes())["pseudonyms"])
    rounds = -(-entries // len(base_entries))
    election_id = fx.election_id
    keys = fx.credential_keys
    start = datetime(2026, 12, 20, 1, 0, tzinfo=timezone.utc)
    counted: dict[str, dict[str, list[dict[str, Any]]]] = {
        c["id"]: {"counted": [], "excluded": []} for c in fx.manifest["contests"]}
    checkpoints: list[dict[str, Any]] = []
    chain = Chain(election_id)
    casting = Casting(chain, fx.opening_hash)

    def board() -> Iterator[BoardItem]:
        with multiprocessing.get_context("fork").Pool(processes or None, _recast_init,
                                                      (fx.election_key.to_dict(), election_id)) as pool:

            def fresh(r: int) -> Iterator[bytes] | None:  # round r's new ballots (the last round: none)
                if r >= rounds - 1:
                    return None
                return pool.imap(_recast, [(e["contest"], e["pseudonym"], e["credential"], r)
                                           for e in base_entries], chunksize=8)

            upcoming = fresh(0)
            for r in range(rounds):
                current, upcoming = upcoming, fresh(r + 1)  # two rounds in flight at most
                for e, last_ballot in zip(base_entries, ballots):
                    ballot = last_ballot if current is None else next(current)
                    at = iso_utc(start + timedelta(microseconds=37 * (chain.seq + 1)))
                    entry = casting.cast(e["pseudonym"], e["contest"], hashlib.sha256(ballot).hexdigest(), at,
                                         keys[e["credential"]], e["credential"])
                    seq = chain.seq
                    lists = counted[e["contest"]]
                    item = {"pseudonym": e["pseudonym"], "seq": seq}
                    if e["pseudonym"] in paper:
                        lists["excluded"].append(dict(item, reason="paper-vote"))
                    elif r < rounds - 1:
                        lists["excluded"].append(dict(item, reason="superseded"))
                    else:
                        lists["counted"].append(item)
                    final = r == rounds - 1 and e is base_entries[-1]
                    if seq % 10_000 == 0 or final:
                        checkpoints.append(sign(checkpoint(election_id, seq, chain.head, at, final,
                                                           opening=fx.opening_hash), fx.board_private_key))
                    if seq % 50_000 == 0:
                        print(f"  {seq} entries", file=sys.stderr)
                    yield entry, ballot

    write_board(record, board(), checkpoints)  # checkpoints: filled while the board is written
    (record / COUNTED).write_bytes(canonical_json({"contests": counted}))
    (record / HASHES).write_bytes(canonical_json(hashes(record)))
    return record


def run_verifier(record: Path, root: Path, processes: int) -> tuple[float, int, int, str]:
    """(seconds, peak RSS KiB of the verifier or any worker, exit status, stdout)."""
    cmd = [sys.executable, "-m", "verifier", str(record), "--json", "--allow-test-key",
           "--progress", "never", "--processes", str(processes),
           "--ca-key", str(record.parent / "ca-key.hex")]
    env = dict(os.environ, PYTHONPATH=str(root))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss, proc.returncode, out


def board_main(args: argparse.Namespace) -> None:
    dest = Path(f"/tmp/ssb_vote_verifier_board_v2_{args.board_entries}_{args.voters}")
    start = time.perf_counter()
    record = build_board_record(dest, args.board_entries, args.voters)
    built = time.perf_counter() - start
    sizes = {rel: (record / rel).stat().st_size for rel in
             ("board/entries.jsonl", "board/ballots.jsonl", "tally/counted.json")}
    n = sum(1 for _ in open(record / "board/entries.jsonl", "rb"))
    print(f"record {record} ({n} entries; built/cached in {built:.0f} s): "
          + ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in sizes.items()))
    root = Path(args.verifier_root).resolve() if args.verifier_root else ROOT
    seconds, rss_kib, code, out = run_verifier(record, root, args.processes)
    report = json.loads(out)
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    print(f"verifier of {root}: exit {code}, {seconds:.1f} s, peak RSS {rss_kib / 1024:.0f} MiB "
          f"({rss_kib * 1024 / n:.0f} bytes/entry), {args.processes} process(es), "
          f"failed: {failed or 'none'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ballots", type=int, default=50)
    p.add_argument("--bits", type=int, default=2048)
    p.add_argument("--candidates", type=int, default=228)
    p.add_argument("--k", type=int, default=7)
    p.add_argument("--per-proof", type=int, default=2, help="ballots to verify per proof")
    p.add_argument("--pure-python", action="store_true")
    p.add_argument("--fast", action="store_true",
                   help="ballots from tally_bench.py's fast-valid-ballot cache (see the docstring)")
    p.add_argument("--batch-size", type=int, default=0,
                   help="ballots per batch (default: the verifier's choice)")
    p.add_argument("--board-entries", type=int, default=0,
                   help="board-scale mode: a record of this many entries (see the docstring)")
    p.add_argument("--voters", type=int, default=200, help="board-scale mode: distinct voters")
    p.add_argument("--verifier-root", default=None,
                   help="board-scale mode: run the verifier of this checkout")
    p.add_argument("--processes", type=int, default=1, help="board-scale mode: --processes")
    args = p.parse_args()
    if args.board_entries:
        board_main(args)
        return
    if args.pure_python:
        arith.use_gmpy2(False)
    if args.fast:
        n, election_id, jobs, path = fast_jobs(args.ballots, args.candidates, args.k, args.bits)
    else:
        key = load_key(args.bits)
        n = int(key.to_dict()["n"], 16)
        election_id, path = ELECTION, None
        ballots = load_ballots(key, args.ballots, args.candidates, args.k, args.bits,
                               max(1, multiprocessing.cpu_count()))
        jobs = [BallotJob(i + 1, CONTEST, f"voter-{i:05d}", args.candidates, args.k, b)
                for i, b in enumerate(ballots)]
    print(f"verifier benchmark: {len(jobs)} ballots{' (fast, from ' + path + ')' if path else ''}, "
          f"{args.k}-of-{args.candidates}, {n.bit_length()}-bit n, backend {arith.BACKEND}, "
          f"{multiprocessing.cpu_count()} CPUs, batch size {args.batch_size or 'default'}")
    extra = {"batch_size": args.batch_size} if args.batch_size else {}
    rows = []
    for label, processes, batched, subset in (  # the pool first: its workers fork a lean parent
            ("batched, 2 processes", 2, True, jobs),
            ("batched, 1 process", 1, True, jobs),
            ("per proof, 1 process", 1, False, jobs[:args.per_proof])):
        if not subset:
            continue
        wall, cpu = _clock()
        verdicts = verify_ballots(n, election_id, subset, processes=processes, batched=batched,
                                  path=path, **extra)
        wall2, cpu2 = _clock()
        assert all(v.ok for v in verdicts), [v for v in verdicts if not v.ok][:1]
        per, cpu_per = (wall2 - wall) / len(subset), (cpu2 - cpu) / len(subset)
        rows.append((label, per))
        print(f"  {label:22s} {len(subset):4d} ballots {wall2 - wall:8.2f} s wall "
              f"{per:7.3f} s/ballot, CPU {cpu2 - cpu:8.2f} s {cpu_per:7.3f} s/ballot")
    two = dict(rows)["batched, 2 processes"]
    line = (f"extrapolation: 10,000 ballots on 2 cores ≈ {two * 10_000 / 60:.1f} min "
            f"({two * 10_000:.0f} s)")
    if "per proof, 1 process" in dict(rows):
        line += f"; per proof on 1 core ≈ {dict(rows)['per proof, 1 process'] * 10_000 / 3600:.1f} h"
    print(line)
    own, workers = (resource.getrusage(who).ru_maxrss / 1024
                    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"peak RSS: this process (1-process rows) {own:.0f} MiB, largest pool worker "
          f"{workers:.0f} MiB")


if __name__ == "__main__":
    main()
