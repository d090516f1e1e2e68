"""Load test of the cast API (issue 9, part A): sustained ballots/s, latency, overload, board.

Run: ``.venv/bin/python benchmarks/load_cast.py [--voters 60] [--workers 2] [--threads 4]``.

1. A throw-away PostgreSQL server (tools/postgres.py) and the demo manifest's
   7-of-228 insured contest with a 2048-bit key from the key ceremony. The key and the
   ballots are cached under ``--cache`` (default /tmp/ssbvote-load-cast): making one ballot
   costs ~5–10 s of CPU and a ballot is bound to the key, the election id and the voter's
   ballot party ``<pseudonym>/<credential>`` (record format 2), so a later run reuses the cached
   public key (same manifest, same pseudonym key, same voters with the same deterministic
   credentials, :func:`load_credential`) and only the first run pays for the ballots
   (``--fresh-key`` starts over).  The credential authority's step (list, opening) runs through
   the shared scenario with a fresh CA key; every cast is signed with the voter's credential
   when it is sent (the signature binds the opening hash, which is new on every run).
2. Voter accounts are inserted directly (one argon2 hash, a TOTP secret each); every voter
   signs in once over HTTP with password + TOTP, as a browser does.
3. The app runs under gunicorn (``--workers`` × ``--threads`` gthread) on loopback; with
   ``--hosts N`` (issue 20) as N independent gunicorn instances (``--workers`` split between
   them) sharing the PostgreSQL and a Redis (limiter storage), behind nginx with the shipped
   site template (TLS with a test certificate, SSBVOTE_PROXY_HOPS=1; tools/cluster.py), and the
   clients cast over HTTPS through nginx.
4. ``verify s``: one ballot verified in this process on one core (crypto.verify_contest).
5. Steady phase: ``--concurrency`` closed-loop clients cast fresh ballots (a 503 is retried
   after its Retry-After). Sustained ballots/s, p50/p95/p99 of accepted casts, and
   ratio = ballots/s ÷ (cores ÷ verify s); target ≥ 0.8 with p99 < 1 s.
6. Overload phase: open-loop arrivals at ``--overload-factor`` × the sustained rate for
   ``--overload-seconds``; every request must be answered (201, 503 + Retry-After, or 409 for a
   deliberate replay once the fresh ballots run out) — none may time out.
7. Board check: every 201 receipt's seq/ballot_hash/entry_hash is on the board, the board holds
   nothing else, no duplicates, and board.verify_chain finds the chain intact.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import requests.adapters  # noqa: E402

from tools import scenario  # noqa: E402
from tools.serve import GunicornServer, ServerDidNotStart  # noqa: E402

PASSWORD = "load-benchmark-voter-2569"
PSEUDONYM_KEY = "load-benchmark-pseudonym-key-not-a-secret-0001"
TRUSTEES = [("Trustee One", "load passphrase one"), ("Trustee Two", "load passphrase two"),
            ("Trustee Three", "load passphrase three")]
_VERIFIER_LINE = re.compile(r"verifier: (\d+) ballots in .*?, ([\d.]+) ms CPU per ballot in process (\d+)")
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- set-up ------------------------------------------------------------------------------------
def national_ids(count: int, seed: int = 2569) -> list[str]:
    """The same voters on every run (their cached ballots are bound to their pseudonyms)."""
    rng = random.Random(seed)
    used: set[str] = set()
    return [scenario.random_national_id(rng, used) for _ in range(count)]


def manifest() -> dict[str, Any]:
    """The demo manifest with a fixed, open poll window, so the election id stays the same."""
    return scenario.with_poll_window(scenario.load_manifest(), "2026-01-01T00:00:00+07:00",
                                     "2031-01-01T00:00:00+07:00", slug="ssb-load-test")


def load_credential(electorate: str, voter_key: str) -> str:
    """A benchmark voter's credential, derived from the voter key (the same on every run, so
    cached ballots keep their party); never a real voter's."""
    from crypto.credential import ALPHABET, credential_from_data

    digest = hashlib.sha256(f"ssbvote load voter|{electorate}|{voter_key}".encode()).digest()
    return credential_from_data("".join(ALPHABET[b & 31] for b in digest[:26]))


@dataclass
class Voter:
    national_id: str
    pseudonym: str
    totp_secret: str
    credential: str = ""  # the credential text
    public: str = ""  # its public credential
    selections: tuple[int, ...] = ()
    ballot_body: bytes = b""  # the request body up to its signature, serialised once before the timed phases
    ballot_hash: str = ""
    signer: Any = None  # the credential's Ed25519 key
    session: requests.Session | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def party(self) -> str:
        return f"{self.pseudonym}/{self.public}"


def set_up(env: dict[str, str], args: argparse.Namespace, say: Any) -> tuple[Any, str, list[Voter], dict[str, Any]]:
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.services.platform import schema
    from crypto.encoding import canonical_json

    config = Config.from_env(env)
    schema.upgrade(config.database_url)
    app = create_app(config)
    key_file = args.cache / f"election-key-{args.key_bits}.json"
    # The ceremony ran when the cache was made; reusing its public key keeps the cached ballots
    # valid. (The trustees' shares are not needed: nothing is decrypted here.)
    cached_key = key_file.read_text() if key_file.exists() and not args.fresh_key else None
    if cached_key is not None:
        from crypto import ElectionPublicKey
        from crypto.errors import InvalidInput

        try:  # a key of an older format (made before a protocol change) cannot be reused
            ElectionPublicKey.from_dict(json.loads(cached_key), allow_insecure_test_key=args.key_bits < 2048)
        except (InvalidInput, ValueError) as exc:
            say(f"the cached key {key_file} is unusable ({exc}): new key ceremony, new ballots")
            cached_key = None
    ids = national_ids(args.voters)
    with app.app_context():
        setup = scenario.set_up(scenario.Scenario(
            manifest=manifest(), rolls=[scenario.insured_csv(ids, name="Load voter")],
            officials=(scenario.OfficialSpec("load-officer-a", "Officer A"),
                       scenario.OfficialSpec("load-officer-b", "Officer B")),
            official_password=PASSWORD, trustees=TRUSTEES, threshold=2, key_bits=args.key_bits,
            trustee_dir=Path(env["SSBVOTE_INSTANCE"]) / "trustees", scrypt_log2_n=14,
            public_key=cached_key, accounts={"insured": len(ids)}, account_password=PASSWORD,
            actor="load-benchmark", voter_credential=load_credential), say)
        if setup.ceremony is None:
            say(f"reusing the cached {args.key_bits}-bit election key ({key_file})")
        else:
            args.cache.mkdir(parents=True, exist_ok=True)
            key_file.write_text(canonical_json(setup.ceremony.election_key.to_dict()).decode())
            say(f"key ceremony took {setup.key_seconds:.1f} s (public key cached in {key_file})")
        from crypto.credential import public_credential, voter_key

        voters = []
        for a in setup.accounts["insured"]:
            signer = voter_key(a.credential, setup.election.election_id)
            voters.append(Voter(a.voter_key, a.pseudonym, a.totp_secret, a.credential,
                                public_credential(signer), signer=signer))
        election = setup.election
        contest = election.contest_by_code("insured")
        assert contest is not None
        context = {
            "election_id": election.election_id,
            "key": json.loads(election.election_key or "{}"),
            "contest": contest.code,
            "candidates": len(contest.candidates),
            "k": contest.max_selections,
            "opening": election.opening_hash,
        }
        slug = election.slug
        db.session.remove()
    return app, slug, voters, context


# --- ballots (made in a process pool, cached on disk) -----------------------------------------
def _make_ballot(job: tuple[dict[str, Any], str, str, str, list[int], int, bool]) -> dict[str, Any]:
    from crypto import ContestStatement, ElectionPublicKey, encrypt_contest

    key_dict, election_id, contest, party, selections, k, allow_test = job
    key = ElectionPublicKey.from_dict(key_dict, allow_insecure_test_key=allow_test)
    seed = secrets.token_bytes(32)
    statement = ContestStatement(key.public_key, election_id, contest, party, len(selections), k)
    ballot = encrypt_contest(statement, selections, seed)
    return {"ballot": ballot.to_dict(), "selections": selections}  # the seed is not kept (protocol.md §4.4)


def _fast_init(n: int, election_id: str, contest: str) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import tally_bench
    tally_bench.CONTEST = contest
    tally_bench._init(n, election_id)
    # The ballots are made for the party given (<pseudonym>/<credential> of load_credential),
    # not for tally_bench's own benchmark voters.
    tally_bench.bench_party = lambda party: party  # type: ignore[assignment]


def _make_fast_ballot(job: tuple[str, list[int], int]) -> dict[str, Any]:
    """A ballot with genuine proofs, its randomness from tally_bench's b^α trick (~50× faster to
    make; the server's verification costs the same).  The server never sees a cast ballot's seed."""
    import tally_bench
    party, selections, k = job
    _, ballot = tally_bench.make_ballot((0, party, selections, k))
    return {"ballot": json.loads(ballot), "selections": selections}


def ballot_cache_path(cache: Path, context: dict[str, Any], party: str) -> Path:
    tag = hashlib.sha256(json.dumps([context["key"], context["election_id"], context["contest"],
                                     party], sort_keys=True).encode()).hexdigest()[:32]
    return cache / "ballots" / f"{tag}.json"


def prepare_ballots(voters: list[Voter], context: dict[str, Any], args: argparse.Namespace, say: Any) -> None:
    rng = random.Random(7)
    missing = []
    for voter in voters:
        path = ballot_cache_path(args.cache, context, voter.party)
        if not path.exists():
            count = rng.randint(0, context["k"])
            chosen = set(rng.sample(range(context["candidates"]), count))
            selections = [1 if i in chosen else 0 for i in range(context["candidates"])]
            missing.append((voter, path, (context["key"], context["election_id"], context["contest"],
                                          voter.party, selections, context["k"],
                                          args.key_bits < 2048)))
    if missing:
        t0 = time.perf_counter()
        (args.cache / "ballots").mkdir(parents=True, exist_ok=True)
        if args.real_ballots:
            say(f"making {len(missing)} ballots on {args.processes} processes "
                f"(cached for later runs; ~5-10 s of CPU each) ...")
            pool = ProcessPoolExecutor(max_workers=args.processes)
            made_all = pool.map(_make_ballot, [m[2] for m in missing])
        else:
            say(f"making {len(missing)} ballots on {args.processes} processes with the b^α trick of "
                f"tally_bench.py (valid proofs, verified like any other; cached for later runs) ...")
            n = int(context["key"]["n"], 16)
            pool = ProcessPoolExecutor(max_workers=args.processes, initializer=_fast_init,
                                       initargs=(n, context["election_id"], context["contest"]))
            made_all = pool.map(_make_fast_ballot, [(m[2][3], m[2][4], m[2][5]) for m in missing], chunksize=2)
        with pool:
            for (voter, path, _), made in zip(missing, made_all):
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(made))
                tmp.rename(path)
        say(f"  made in {time.perf_counter() - t0:.1f} s")
    from crypto.encoding import canonical_json

    for voter in voters:
        made = json.loads(ballot_cache_path(args.cache, context, voter.party).read_text())
        voter.selections = tuple(made["selections"])
        voter.ballot_hash = hashlib.sha256(canonical_json(made["ballot"])).hexdigest()
        body = {"contest": context["contest"], "ballot": made["ballot"], "credential": voter.public,
                "previous": ""}
        # Canonical JSON, as the browser sends it (docs/record.md §2.6); "signature" sorts last.
        voter.ballot_body = canonical_json(body)[:-1] + b',"signature":"'


def signed_body(voter: Voter, context: dict[str, Any]) -> bytes:
    """The voter's cast request, its protocol.md §13.3 statement signed now (each voter casts one fresh
    ballot, so ``previous`` is empty; a replay re-sends the same statement)."""
    from crypto.credential import ballot_statement, sign_ballot

    statement = ballot_statement(context["election_id"], context["opening"], context["contest"], voter.pseudonym,
                                 voter.public, voter.ballot_hash, previous="")
    return voter.ballot_body + sign_ballot(statement, voter.signer).encode() + b'"}'


def measure_verify(voter: Voter, context: dict[str, Any], allow_test: bool, repeat: int = 5) -> float:
    """Seconds to parse + verify one ballot on one core (best of ``repeat``); its CPU seconds
    (best of ``repeat``, load-independent) go to :data:`VERIFY_CPU`."""
    from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, verify_contest

    key = ElectionPublicKey.from_dict(context["key"], allow_insecure_test_key=allow_test).public_key
    raw = json.loads(signed_body(voter, context))["ballot"]
    statement = ContestStatement(key, context["election_id"], context["contest"], voter.party,
                                 context["candidates"], context["k"])
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        ballot = EncryptedContest.from_dict(raw, key)
        verify_contest(statement, ballot)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    VERIFY_CPU[0] = min(cpu)
    return min(times)


#: CPU seconds of one ballot's parse + verification (:func:`measure_verify`).
VERIFY_CPU = [0.0]


# --- the server --------------------------------------------------------------------------------
class Gunicorn(GunicornServer):
    def __init__(self, env: dict[str, str], workers: int, threads: int, log: Path):
        try:
            super().__init__(env, log, workers=workers, threads=threads)
        except ServerDidNotStart as exc:
            raise SystemExit(str(exc)) from exc


class Cluster:
    """``--hosts N``: N gunicorn instances behind nginx (tools/cluster.py), one Redis."""

    def __init__(self, env: dict[str, str], hosts: int, workers: int, threads: int, tmp: Path):
        from tools import cluster, redis_server

        self.redis = redis_server.start()
        env["SSBVOTE_REDIS_URL"] = self.redis.url()
        self.hosts = cluster.AppCluster(env, tmp, hosts=hosts, workers=workers, threads=threads)
        self.certificate = cluster.TestCertificate.make(tmp / "tls")
        self.nginx = cluster.Nginx(self.hosts.upstreams, self.certificate)
        self.url = self.nginx.url
        self.logs = [tmp / f"host-{i + 1}.log" for i in range(hosts)]

    def masters(self) -> list[int]:
        return [server.proc.pid for server in self.hosts.servers]

    def stop(self) -> None:
        self.nginx.stop()
        self.hosts.stop()
        self.redis.stop()


#: The test CA nginx's certificate is signed by (``--hosts``), trusted by the clients.
TLS_CA: str | None = None


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One client TLS context trusting the test CA, shared by every simulated voter."""
    return ssl.create_default_context(cafile=TLS_CA)


class _TestCATransport(requests.adapters.HTTPAdapter):
    """A voter's HTTPS connections, verified by the shared context (checks the certificate chain
    and the host name).  Given a CA file instead, requests and urllib3 build a new context and
    load the file for every connection: client CPU the load generator, which shares the machine
    with the server it measures, should not spend (a browser's TLS runs on the voter's device)."""

    def __init__(self, context: ssl.SSLContext):
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = "CERT_REQUIRED"  # against the context's CA (not requests' default bundle)


def sign_in(url: str, voter: Voter) -> None:
    from tools.voting_client import VotingClient

    client = VotingClient(url, "insured", timeout=60)
    if TLS_CA:
        client.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
        client.http.mount("https://", _TestCATransport(_tls_context()))
        client.http.verify = True  # by the transport's context: nginx's certificate, test CA
    client.login(voter.national_id, PASSWORD, voter.totp_secret)
    page = client.http.get(url + "/insured/", timeout=60)
    match = _CSRF_META.search(page.text)
    if not match:
        raise RuntimeError(f"voter {voter.national_id}: no CSRF token after sign-in")
    voter.session = client.http
    voter.headers = {"X-CSRFToken": match.group(1), "Referer": url + "/",
                     "Content-Type": "application/json"}


def _children(pid: int) -> list[int]:
    """The live children of ``pid``, started by any of its threads (Linux lists each thread's
    children apart: a worker's proof process is its verifier thread's child)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids``, with the CPU of their children that ended (cutime + cstime:
    PostgreSQL backends of closed connections) (Linux /proc; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot (Linux /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / tick, idle / tick


def server_pids(master: int | list[int], pg: Any) -> dict[str, list[int]]:
    """gunicorn's workers (of every host), and the throw-away PostgreSQL server's processes."""
    workers = [c for m in (master if isinstance(master, list) else [master]) for c in _children(m)]
    pids = {"gunicorn workers": workers,
            "proof processes": [c for w in workers for c in _children(w)]}  # crypto/proof_process.py
    try:
        postmaster = int((Path(pg.base_dir) / "data" / "postmaster.pid").read_text().split()[0])
        pids["postgres"] = [postmaster] + _children(postmaster)
    except (OSError, ValueError, IndexError):
        pids["postgres"] = []
    return pids


def proxy_pids(server: Any) -> dict[str, list[int]]:
    """``--hosts``: nginx's processes (master + workers), Redis, and the gunicorn masters."""
    if not isinstance(server, Cluster):
        return {"gunicorn masters": [server.proc.pid]}
    nginx = server.nginx.proc.pid
    return {"nginx": [nginx] + _children(nginx), "redis": [server.redis.process.pid],
            "gunicorn masters": server.masters()}


def cpu_breakdown(before: dict[str, float], after: dict[str, float], ballots: int, verify_cpu: float,
                  elapsed: float, cores: int, busy: float) -> list[str]:
    """Extra report lines: CPU-ms per accepted ballot by component (CPU time, not wall time, so
    comparable across loads), and the ratio it implies once every core is busy with this run's
    processes: ratio = one ballot's verification CPU ÷ CPU per ballot over the whole machine."""
    n = max(1, ballots)
    used = {k: max(0.0, after[k] - before.get(k, 0.0)) for k in after}
    ours = sum(used.values())
    other = max(0.0, busy - ours)
    parts = ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in used.items())
    total = ours / n
    return [
        f"  CPU per ballot by component (ms): {parts}; sum {1000 * total:.1f} "
        f"(other processes on the machine: {1000 * other / n:.1f})",
        f"  CPU-bound ratio = verify CPU {1000 * verify_cpu:.1f} ms ÷ {1000 * total:.1f} ms = "
        f"{verify_cpu / total if total else float('nan'):.2f} (the ratio with every core busy with this "
        f"run; the measured ratio above also needs them busy: cores obtained "
        f"{ours / elapsed if elapsed > 0 else 0.0:.2f} of {cores})",
    ]


# --- load --------------------------------------------------------------------------------------
@dataclass
class Outcome:
    voter: Voter
    status: int  # 0: no answer (timeout or connection error)
    seconds: float
    retry_after: str | None = None
    receipt: dict[str, Any] | None = None
    error: str = ""


def cast_once(url: str, slug: str, voter: Voter, timeout: float, context: dict[str, Any]) -> Outcome:
    assert voter.session is not None
    t0 = time.perf_counter()
    try:
        response = voter.session.post(f"{url}/api/elections/{slug}/cast", data=signed_body(voter, context),
                                      headers=voter.headers, timeout=timeout)
    except requests.RequestException as exc:
        return Outcome(voter, 0, time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}"[:160])
    elapsed = time.perf_counter() - t0
    try:
        body = response.json()
    except ValueError:
        body = {}
    return Outcome(voter, response.status_code, elapsed, response.headers.get("Retry-After"),
                   body.get("receipt") if response.status_code == 201 else None,
                   "" if response.status_code == 201 else str(body.get("error", response.text[:80])))


def steady_phase(url: str, slug: str, voters: list[Voter], concurrency: int, duration: float,
                 timeout: float, context: dict[str, Any]) -> tuple[list[Outcome], float]:
    """Closed loop: each client casts the next fresh ballot as soon as its previous one is done."""
    queue = list(reversed(voters))
    lock = threading.Lock()
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + duration
    last_accept = [0.0]

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                if not queue:
                    return
                voter = queue.pop()
            while True:
                outcome = cast_once(url, slug, voter, timeout, context)
                with lock:
                    outcomes.append(outcome)
                if outcome.status == 503 and time.perf_counter() < deadline:
                    time.sleep(float(outcome.retry_after or 1))
                    continue
                if outcome.status == 201:
                    with lock:
                        last_accept[0] = time.perf_counter()
                break

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, (last_accept[0] or time.perf_counter()) - started


def overload_phase(url: str, slug: str, fresh: list[Voter], accepted: list[Voter], rate: float,
                   seconds: float, timeout: float, context: dict[str, Any]) -> tuple[list[Outcome], float]:
    """Open loop at ``rate`` casts/s. Fresh ballots first (a refused one goes back in the pool);
    when none is free, a replay of an accepted ballot (refused 409 by its hash, before any proof check)."""
    lock = threading.Lock()
    pool = list(reversed(fresh))
    done = list(accepted)
    busy: set[str] = set()
    outcomes: list[Outcome] = []

    def pick() -> Voter | None:
        with lock:
            while pool:
                voter = pool.pop()
                return voter
            free = [v for v in done if v.pseudonym not in busy]
            if not free:
                return None
            voter = random.choice(free)
            busy.add(voter.pseudonym)
            return voter

    def fire(voter: Voter) -> None:
        outcome = cast_once(url, slug, voter, timeout, context)
        with lock:
            outcomes.append(outcome)
            busy.discard(voter.pseudonym)
            fresh_ballot = voter not in done
            if fresh_ballot and outcome.status == 201:
                done.append(voter)
            elif fresh_ballot:
                pool.append(voter)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=256) as executor:
        i = 0
        while True:
            when = started + i / rate
            if when - started >= seconds:
                break
            delay = when - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            voter = pick()
            if voter is not None:
                executor.submit(fire, voter)
            i += 1
    return outcomes, time.perf_counter() - started


# --- report ------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def by_status(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        key = str(o.status) if o.status else f"no answer ({o.error.split(':')[0]})"
        if o.status not in (0, 201):
            key += f" {o.error}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def check_board(app: Any, slug: str, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    from app.extensions import db
    from app.services.voting import board
    from app.services.administration.manifest import get_election

    with app.app_context():
        election = get_election(slug)
        problems = board.verify_chain(election)
        entries = {e.seq: (e.ballot_hash, e.entry_hash) for e in board.iter_entries(election)}
        db.session.remove()
    missing = [r["seq"] for r in receipts
               if entries.get(r["seq"]) != (r["ballot_hash"], r["entry_hash"])]
    seqs = [r["seq"] for r in receipts]
    hashes = [h for h, _ in entries.values()]
    return {
        "entries": len(entries),
        "receipts": len(receipts),
        "receipts_missing_or_different": missing,
        "entries_without_receipt": sorted(set(entries) - set(seqs)),
        "duplicate_receipt_seqs": len(seqs) - len(set(seqs)),
        "duplicate_ballots": len(hashes) - len(set(hashes)),
        "chain_problems": problems,
        "ok": not problems and not missing and len(entries) == len(set(seqs)) == len(seqs)
              and len(hashes) == len(set(hashes)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300, help="voters, one fresh ballot each")
    parser.add_argument("--steady", type=int, default=None,
                        help="ballots for the steady phase (default: two thirds of --voters)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker (1: sync)")
    parser.add_argument("--max-inflight", type=int, default=6, help="SSBVOTE_CAST_MAX_INFLIGHT")
    parser.add_argument("--min-batch", type=int, default=3, help="SSBVOTE_VERIFY_MIN_BATCH")
    parser.add_argument("--linger-ms", type=int, default=100, help="SSBVOTE_VERIFY_LINGER_MS")
    parser.add_argument("--max-batch", type=int, default=16, help="SSBVOTE_VERIFY_MAX_BATCH")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="steady-phase clients (default 4 × workers)")
    parser.add_argument("--duration", type=float, default=120, help="steady phase at most, seconds")
    parser.add_argument("--overload-factor", type=float, default=2.0)
    parser.add_argument("--overload-seconds", type=float, default=15)
    parser.add_argument("--timeout", type=float, default=30, help="client timeout per cast, seconds")
    parser.add_argument("--key-bits", type=int, default=2048)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2,
                        help="processes making the ballots (before the timed phases)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ssbvote-load-cast"))
    parser.add_argument("--fresh-key", action="store_true", help="new key ceremony, new ballots")
    parser.add_argument("--real-ballots", action="store_true",
                        help="make missing ballots with the real client code from a seed (slow)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--hosts", type=int, default=0,
                        help="N app instances behind nginx over HTTPS (0: one gunicorn, direct)")
    args = parser.parse_args()
    args.concurrency = args.concurrency or 4 * args.workers
    steady_count = args.steady if args.steady is not None else (2 * args.voters) // 3

    def say(text: str) -> None:
        print(text, flush=True)

    from tools import postgres

    # Stop the servers on SIGTERM too (the finally below), not only on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cores = os.cpu_count() or 1
    say(f"machine: {cores} cores, load average {os.getloadavg()[0]:.2f} at start")
    pg = postgres.start()
    tmp = Path(tempfile.mkdtemp(prefix="ssbvote-load-"))
    server: Gunicorn | Cluster | None = None
    try:
        url = pg.create_database("load")
        env = {
            "SSBVOTE_ENV": "development",
            "SSBVOTE_INSTANCE": str(tmp / "instance"),
            "DATABASE_URL": url,
            "SSBVOTE_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1" if args.key_bits < 2048 else "",
            "SSBVOTE_SIGNIN_IP_LIMIT": "100000 per minute",
            "SSBVOTE_CAST_MAX_INFLIGHT": str(args.max_inflight),
            "SSBVOTE_VERIFY_MIN_BATCH": str(args.min_batch),
            "SSBVOTE_VERIFY_LINGER_MS": str(args.linger_ms),
            "SSBVOTE_VERIFY_MAX_BATCH": str(args.max_batch),
        }
        if args.fresh_key:
            (args.cache / f"election-key-{args.key_bits}.json").unlink(missing_ok=True)
        app, slug, voters, context = set_up(env, args, say)
        prepare_ballots(voters, context, args, say)
        verify_s = measure_verify(voters[0], context, args.key_bits < 2048)
        capacity = cores / verify_s
        say(f"verify: {verify_s:.3f} s per ballot on one core "
            f"(ideal {cores} cores: {capacity:.2f} ballots/s)")
        say(f"  verify CPU: {VERIFY_CPU[0]:.3f} s per ballot (the same, in CPU time; "
            f"load average {os.getloadavg()[0]:.2f})")

        if args.hosts:
            global TLS_CA
            per_host = max(1, args.workers // args.hosts)
            server = Cluster(env, args.hosts, per_host, args.threads, tmp)
            TLS_CA = str(server.certificate.ca)
            say(f"{args.hosts} gunicorn hosts × {per_host} workers × {args.threads} threads behind nginx "
                f"(HTTPS, shipped site template), one PostgreSQL, one Redis; CAST_MAX_INFLIGHT={args.max_inflight}")
        else:
            server = Gunicorn(env, args.workers, args.threads, tmp / "gunicorn.log")
            say(f"gunicorn: {args.workers} workers × {args.threads} threads "
                f"({'gthread' if args.threads > 1 else 'sync'}), CAST_MAX_INFLIGHT={args.max_inflight}")
        say(f"  verifier batches: SSBVOTE_VERIFY_MIN_BATCH={args.min_batch}, SSBVOTE_VERIFY_LINGER_MS={args.linger_ms}, "
            f"SSBVOTE_VERIFY_MAX_BATCH={args.max_batch}; "
            f"{args.concurrency} steady clients")
        masters = server.masters() if isinstance(server, Cluster) else server.proc.pid
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as executor:
            list(executor.map(lambda v: sign_in(server.url, v), voters))
        say(f"{len(voters)} voters signed in over HTTP (password + TOTP) in "
            f"{time.perf_counter() - t0:.1f} s")

        steady_voters = voters[:steady_count]
        load_before = os.getloadavg()[0]
        cpu_before = {k: cpu_seconds(v) for k, v in server_pids(masters, pg).items()}
        parts_before = {**{k: cpu_seconds(v) for k, v in server_pids(masters, pg).items()},
                        **{k: cpu_seconds(v) for k, v in proxy_pids(server).items()}}
        client_before, machine_before = os.times(), machine_cpu()
        parts_before["load generator"] = client_before.user + client_before.system
        outcomes, elapsed = steady_phase(server.url, slug, steady_voters, args.concurrency,
                                         args.duration, args.timeout, context)
        accepted = [o for o in outcomes if o.status == 201]
        rate = len(accepted) / elapsed if elapsed > 0 else 0.0
        lat = [o.seconds for o in accepted]
        ratio = rate / capacity
        say(f"\nsteady: {len(accepted)} ballots in {elapsed:.1f} s with {args.concurrency} clients "
            f"(load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)")
        say(f"  sustained {rate:.2f} ballots/s; latency p50 {percentile(lat, 50):.3f} s, "
            f"p95 {percentile(lat, 95):.3f} s, p99 {percentile(lat, 99):.3f} s")
        say(f"  responses: {by_status(outcomes)}")
        say(f"  ratio = {rate:.2f} ÷ ({cores} ÷ {verify_s:.3f}) = {ratio:.2f} (target ≥ 0.8); "
            f"p99 {'<' if percentile(lat, 99) < 1 else '≥'} 1 s")
        # The machine may be shared: how much CPU did the server actually get, and spend per
        # ballot? (Ballots the server could do per core-second, against verify_s.)
        cpu_used = {k: cpu_seconds(v) - cpu_before.get(k, 0.0)
                    for k, v in server_pids(masters, pg).items()}
        server_cpu = sum(cpu_used.values())
        per_ballot = server_cpu / max(1, len(accepted))
        obtained = server_cpu / elapsed if elapsed > 0 else 0.0
        say(f"  server CPU: {', '.join(f'{k} {v:.1f} s' for k, v in cpu_used.items())} = "
            f"{per_ballot:.3f} CPU-s per ballot ({verify_s / per_ballot:.2f} of it proof checking); "
            f"the server obtained {obtained:.2f} of {cores} cores -> ratio on the cores it got "
            f"{rate / (obtained / verify_s) if obtained else float('nan'):.2f}")
        client_after, machine_after = os.times(), machine_cpu()
        client_cpu = (client_after.user + client_after.system) - (client_before.user + client_before.system)
        busy = machine_after[0] - machine_before[0]
        say(f"  load generator (this process) CPU: {client_cpu:.1f} s = {client_cpu / max(1, len(accepted)):.3f} "
            f"s per ballot; whole machine busy {busy:.1f} of {cores * elapsed:.1f} core-s, of which "
            f"{max(0.0, busy - server_cpu - client_cpu):.1f} s by other processes")
        parts_after = {**{k: cpu_seconds(v) for k, v in server_pids(masters, pg).items()},
                       **{k: cpu_seconds(v) for k, v in proxy_pids(server).items()},
                       "load generator": client_after.user + client_after.system}
        steady_cpu_per_ballot = (sum(parts_after.values()) - sum(parts_before.values())) / max(1, len(accepted))
        for line in cpu_breakdown(parts_before, parts_after, len(accepted), VERIFY_CPU[0], elapsed, cores, busy):
            say(line)
        say("  load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

        # Ballots the steady phase did not get to (duration limit) join the overload pool.
        accepted_voters = [o.voter for o in accepted]
        fresh = [v for v in voters if v not in accepted_voters]
        load_rate = max(rate, 0.5) * args.overload_factor
        over, over_elapsed = overload_phase(server.url, slug, fresh, accepted_voters, load_rate,
                                            args.overload_seconds, args.timeout, context)
        over_ok = [o for o in over if o.status == 201]
        busy = [o for o in over if o.status == 503]
        unanswered = [o for o in over if o.status == 0]
        busy_with_header = sum(1 for o in busy if o.retry_after and o.retry_after.isdigit())
        say(f"\noverload: {len(over)} casts offered at {load_rate:.2f}/s for {over_elapsed:.1f} s "
            f"(load average {os.getloadavg()[0]:.2f})")
        say(f"  responses: {by_status(over)}")
        say(f"  accepted {len(over_ok) / over_elapsed:.2f} ballots/s, latency p50 "
            f"{percentile([o.seconds for o in over_ok], 50):.3f} s, p99 "
            f"{percentile([o.seconds for o in over_ok], 99):.3f} s")
        say(f"  503 busy: {len(busy)}, {busy_with_header} with Retry-After; answered in p50 "
            f"{percentile([o.seconds for o in busy], 50):.3f} s, p99 "
            f"{percentile([o.seconds for o in busy], 99):.3f} s; no answer: {len(unanswered)}")

        receipts = [o.receipt for o in accepted + over_ok if o.receipt]
        board_report = check_board(app, slug, receipts)
        answered = [o.seconds for o in over if o.status]
        say(f"  every answer: p50 {percentile(answered, 50):.3f} s, p99 {percentile(answered, 99):.3f} s, "
            f"max {max(answered, default=float('nan')):.3f} s")
        for o in unanswered[:3]:
            say(f"  no answer after {o.seconds:.2f} s: {o.error}")
        server_logs = server.logs if isinstance(server, Cluster) else []
        if isinstance(server, Cluster):
            served = server.nginx.upstream_counts("/cast")
            say("  casts per host (nginx log): " + ", ".join(f"{k} {v}" for k, v in sorted(served.items())))
        server.stop()
        server = None
        logs = server_logs if args.hosts else [tmp / "gunicorn.log"]
        verified: dict[str, tuple[int, float]] = {}  # worker pid: ballots, CPU-s of proof checking each
        for line in (ln for log in logs for ln in log.read_text(errors="replace").splitlines()):
            if "verifier:" in line:  # batch statistics of each worker (app/services/voting/verification.py)
                say("  " + line.split("ssbvote.verification: ", 1)[-1])
                found = _VERIFIER_LINE.search(line)
                if found:  # each line counts since the worker started: its last one counts
                    verified[found.group(3)] = (int(found.group(1)), float(found.group(2)) / 1000)
        if verified:
            in_batches = sum(n * s for n, s in verified.values()) / sum(n for n, _ in verified.values())
            say(f"  proof checking in the verifier threads: {1000 * in_batches:.1f} ms CPU per ballot "
                f"(alone {1000 * VERIFY_CPU[0]:.1f} ms); everything else per steady ballot: "
                f"{1000 * (steady_cpu_per_ballot - in_batches):.1f} ms CPU")
        say(f"\nboard: {board_report['entries']} entries, {board_report['receipts']} receipts; "
            f"missing/different {len(board_report['receipts_missing_or_different'])}, "
            f"without receipt {len(board_report['entries_without_receipt'])}, duplicates "
            f"{board_report['duplicate_ballots']}, chain problems {len(board_report['chain_problems'])}"
            f" -> {'OK' if board_report['ok'] else 'FAILED'}")
        overload_ok = not unanswered and busy_with_header == len(busy)
        figures = {
            "cores": cores, "load_average_end": os.getloadavg(),
            "workers": args.workers, "threads": args.threads, "max_inflight": args.max_inflight,
            "verify_seconds": verify_s, "steady": {
                "ballots": len(accepted), "seconds": elapsed, "ballots_per_second": rate,
                "p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
                "responses": by_status(outcomes), "ratio": ratio,
                "server_cpu_seconds_per_ballot": per_ballot, "server_cores_obtained": obtained},
            "overload": {"offered_per_second": load_rate, "responses": by_status(over),
                         "accepted_per_second": len(over_ok) / over_elapsed,
                         "busy_p99": percentile([o.seconds for o in busy], 99),
                         "answer_p99": percentile(answered, 99), "answer_max": max(answered, default=0.0),
                         "unanswered": len(unanswered)},
            "board": {k: v if not isinstance(v, list) else len(v) for k, v in board_report.items()},
        }
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return 0 if board_report["ok"] and overload_ok else 1
    finally:
        if server is not None:
            server.stop()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
