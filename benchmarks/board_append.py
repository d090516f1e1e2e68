"""The board's serial ceiling (issue 20): board appends per second on PostgreSQL with fsync ON.

Run: ``.venv/bin/python benchmarks/board_append.py [--appenders 1,4,16] [--seconds 10]
[--ballot-kb 700] [--processes 4] [--window-ms 5] [--batch-max 32]``.

What a cast does after its proofs are verified — through the board's group commit
(app/services/voting/group_commit.py): the batch's ballot rows, one head lock, the checks under
it (board not closed, ``previous`` still current), consecutive entries, a checkpoint every
BOARD_CHECKPOINT_EVERY (100) entries, one commit per batch; then each appender's signed receipt
(record format version 3 has no receipt-check row: the audit replaced it, issue 16) — is run
here by the server's own code (group_commit.append, board.receipt), called directly: proof
verification is *excluded by not being called*, so there is no switch to turn it off anywhere in
the server or its configuration.  Each appender is a thread (registered as an appender of its
process, as a cast is); appenders are spread over ``--processes`` processes (like gunicorn
workers on several hosts), each with the app and so its own batcher: N processes make N batches
at a time, which take turns on the database's head lock.  ``--window-ms`` and ``--batch-max``
set SSBVOTE_BOARD_BATCH_WINDOW_MS / SSBVOTE_BOARD_BATCH_MAX (``--batch-max 1``: one entry per
transaction, the behaviour before group commit).  Every ballot is a fresh row of
``--ballot-kb`` KB of random hex (a 2048-bit 7-of-228 ballot is ~0.7 MB of canonical JSON;
random hex does not compress, as ciphertexts do not).  PostgreSQL runs with fsync=on,
synchronous_commit=on, full_page_writes=on (tools/postgres.start(durable=True)).

Afterwards the chain is recomputed (board.verify_chain) and every entry's ballot row checked.
Prints one line per appender count (with the batches' mean and largest size); the last line is
``board appends: N/s`` (the best).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_env(url: str, instance: Path, window_ms: int = 5, batch_max: int = 32) -> dict[str, str]:
    return {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(instance), "DATABASE_URL": url,
            "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1", "SSBVOTE_BOARD_BATCH_WINDOW_MS": str(window_ms),
            "SSBVOTE_BOARD_BATCH_MAX": str(batch_max)}


def set_up(env: dict[str, str]) -> str:
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.services.platform import schema
    from tests.support import election_setup
    from tools import scenario

    config = Config.from_env(env)
    schema.upgrade(config.database_url)
    app = create_app(config)
    with app.app_context():
        ids = scenario.national_ids(1)
        setup = election_setup.ready_election(scenario.small_manifest(), [scenario.insured_csv(ids)],
                                              Path(env["SSBVOTE_INSTANCE"]) / "trustees")
        slug = setup.slug
        db.session.remove()
        db.engine.dispose()
    return slug


def appender_process(env: dict[str, str], slug: str, threads: int, ballot_kb: int, seconds: float,
                     ready: Any, go: Any, results: Any) -> None:
    """``threads`` appenders in this process; puts (appends, errors) on ``results``."""
    import hashlib

    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.models.base import utcnow
    from app.services.administration.manifest import get_election
    from app.services.voting import board, group_commit

    app = create_app(Config.from_env(env))
    batcher = group_commit.group_commit(app)
    counts = [0] * threads
    errors: list[str] = []
    window: dict[str, float] = {}

    def run(index: int) -> None:
        payload_size = ballot_kb * 1024 // 2
        with app.app_context(), batcher.appender():
            election = get_election(slug)
            db.session.commit()  # connected, nothing held
            go.wait()
            stop_at = window.setdefault("stop", time.monotonic() + seconds)
            while time.monotonic() < stop_at:
                ballot_json = '{"bench":"' + secrets.token_hex(payload_size) + '"}'
                digest = hashlib.sha256(ballot_json.encode()).hexdigest()
                credential = secrets.token_hex(32)
                try:
                    entry = batcher.append(election, board.Append(
                        "bench-" + credential[:16], "insured", ballot_json, digest, utcnow(), credential, "",
                        secrets.token_hex(64)))
                    board.receipt(election, entry)  # signed only after the batch's commit
                    db.session.commit()
                    counts[index] += 1
                except Exception as exc:  # report, keep going
                    db.session.rollback()
                    errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                    election = get_election(slug)
            db.session.remove()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    ready.put(threads)
    go.wait()
    cpu = time.process_time()
    for w in workers:
        w.join()
    cpu = time.process_time() - cpu
    results.put((sum(counts), errors[:5], len(errors), batcher.batches, batcher.largest, cpu))


def server_cpu(postmaster: int | None) -> float:
    """CPU seconds used so far by the PostgreSQL server ``postmaster`` and its processes (its
    live children, and those that exited: the postmaster's cutime/cstime); 0 without one."""
    if postmaster is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def measure(env: dict[str, str], slug: str, appenders: int, processes: int, seconds: float,
            ballot_kb: int, postmaster: int | None = None) -> tuple[float, int, float, int, float, float]:
    """(appends/s, errors, mean batch size, largest batch, appender processes' CPU seconds,
    PostgreSQL's CPU seconds) over the measured seconds."""
    procs = min(processes, appenders)
    split = [appenders // procs + (1 if i < appenders % procs else 0) for i in range(procs)]
    ctx = mp.get_context("spawn")
    results, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    children = [ctx.Process(target=appender_process, args=(env, slug, n, ballot_kb, seconds, ready, go, results))
                for n in split]
    for child in children:
        child.start()
    for _ in children:  # every process has imported the app and started its appenders
        ready.get(timeout=300)
    time.sleep(1)
    pg_cpu = server_cpu(postmaster)
    go.set()
    total, errors, batches, largest, app_cpu = 0, 0, 0, 0, 0.0
    for done in range(1, len(children) + 1):
        count, sample, failed, made, big, cpu = results.get(timeout=seconds + 120)
        if done == len(children):  # before the children exit and close their connections
            pg_cpu = server_cpu(postmaster) - pg_cpu
        app_cpu += cpu
        total += count
        errors += failed
        batches += made
        largest = max(largest, big)
        for line in sample:
            print(f"  error: {line}", file=sys.stderr)
    for child in children:
        child.join()
    return total / seconds, errors, (total + errors) / max(batches, 1), largest, app_cpu, pg_cpu


def check(env: dict[str, str], slug: str) -> tuple[int, list[str]]:
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.services.administration.manifest import get_election
    from app.services.voting import board

    app = create_app(Config.from_env(env))
    with app.app_context():
        election = get_election(slug)
        problems = board.verify_chain(election)
        size = board.size(election)
        db.session.remove()
        db.engine.dispose()
    return size, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appenders", default="1,4,16", help="comma-separated concurrent appender counts")
    parser.add_argument("--processes", default="2",
                        help="processes the appenders are spread over (comma-separated: one run per layout); "
                             "2 = one host as `ssbvote serve` runs it (2 gunicorn workers x 8 threads at 16 appenders)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per appender count")
    parser.add_argument("--ballot-kb", type=int, default=700, help="size of each ballot row (KB of hex)")
    parser.add_argument("--window-ms", type=int, default=5, help="SSBVOTE_BOARD_BATCH_WINDOW_MS")
    parser.add_argument("--batch-max", type=int, default=32, help="SSBVOTE_BOARD_BATCH_MAX (1: no group commit)")
    parser.add_argument("--database-url", help="an existing PostgreSQL (default: a throw-away one, fsync on)")
    args = parser.parse_args()
    levels = [int(x) for x in args.appenders.split(",")]
    if not all(1 <= n <= 64 for n in levels):
        parser.error("--appenders: each count between 1 and 64")
    layouts = [int(x) for x in args.processes.split(",")]
    if not all(1 <= p <= 16 for p in layouts):
        parser.error("--processes: each count between 1 and 16")

    from tools import postgres

    server = None
    instance = Path(tempfile.mkdtemp(prefix="ssbvote-board-append-"))
    try:
        postmaster: int | None = None  # CPU of an existing server is not counted
        if args.database_url:
            url = args.database_url
        else:
            server = postgres.start(durable=True)
            url = server.create_database("board_append")
            postmaster = int((server.base_dir / "data" / "postmaster.pid").read_text().split()[0])
        env = make_env(url, instance, args.window_ms, args.batch_max)
        os.environ.update(env)
        slug = set_up(env)
        print(f"PostgreSQL fsync=on synchronous_commit=on; ballot rows {args.ballot_kb} KB; "
              f"{args.seconds:.0f} s per level; {os.cpu_count()} cores; group commit window "
              f"{args.window_ms} ms, at most {args.batch_max} per batch; load average "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        best = 0.0
        for processes, n in ((p, n) for p in layouts for n in levels):
            rate, errors, mean, largest, app_cpu, pg_cpu = measure(env, slug, n, processes, args.seconds,
                                                                   args.ballot_kb, postmaster)
            best = max(best, rate)
            print(f"{n:>3} appenders ({min(processes, n)} processes): {rate:8.1f} appends/s, "
                  f"batches mean {mean:.1f} largest {largest}" + (f", {errors} errors" if errors else "")
                  + f" (load {os.getloadavg()[0]:.1f})", flush=True)
            if rate:
                appended = rate * args.seconds
                print(f"      CPU per append: appenders {1000 * app_cpu / appended:.2f} ms"
                      + (f" + PostgreSQL {1000 * pg_cpu / appended:.2f} ms" if postmaster else "")
                      + f"; {args.seconds * os.cpu_count() * 1000 / appended:.2f} core-ms per append were available"
                      , flush=True)
        size, problems = check(env, slug)
        print(f"board: {size} entries, chain {'intact' if not problems else 'BROKEN: ' + problems[0]}")
        print(f"board appends: {best:.0f}/s")
        return 0 if not problems else 1
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
