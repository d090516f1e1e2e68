"""Tally benchmark: verify + aggregate N ballots of a 7-of-228 contest at 2048-bit n.

Run: ``.venv/bin/python benchmarks/tally_bench.py [--ballots 200] [--bits 2048] [--processes P]``.
Prints verify + aggregate throughput in ballots/s per core (target ≥ 20) — for one batch in one
process, and for a whole ``tally prepare`` run in a subprocess — and the peak RSS of that run.

Ballots are made by the real prover (crypto.encrypt_contest with a fresh seed): with the
short-exponent form of protocol version 3 and the fixed-base table of h_s (docs/protocol.md
§5.7) that costs well under a second per 7-of-228 ballot at 2048 bits.  Ballots are cached in
/tmp.  The
election key is a real one (safe primes and key proofs), shared with the other benchmarks.

The export is of record format version 2 (docs/record.md): each voter's credential key is derived
from the pseudonym (:func:`bench_voter_key`, so that cached ballots keep their party
``<pseudonym>/<credential>``), a fresh CA key signs the credential list and the opening, every
cast is signed by its voter (~0.1 ms per entry), and two fresh officials sign the (empty)
paper-vote list.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from crypto import ContestStatement, encrypt_contest  # noqa: E402
from crypto.ceremony import generate_election_key  # noqa: E402
from crypto.credential import ballot_party, public_credential  # noqa: E402
from crypto.encoding import canonical_json  # noqa: E402
from crypto.kdf import BallotKdf  # noqa: E402
from crypto.paillier import PublicKey  # noqa: E402
from crypto.threshold import ElectionPublicKey  # noqa: E402
from election import authority  # noqa: E402
from election.board import Chain, checkpoint, sha256_hex  # noqa: E402
from election.export import BoardItem  # noqa: E402
from election.export import write_export as write_board_export  # noqa: E402
from election.signed import public_key_dict, sign  # noqa: E402
from tally.prepare import prepare  # noqa: E402
from tests.support.board_builder import (Casting, signed_credential_list, signed_opening,  # noqa: E402
                                         signed_paper_list)

CONTEST = "insured"
ELECTION_ID = hashlib.sha256(b"placeholder").hexdigest()  # replaced by the manifest's hash


def manifest(candidates: int, k: int) -> dict[str, Any]:
    text = {"th": "ทดสอบ", "en": "Benchmark"}
    return {
        "format": "ssbvote-manifest/1", "election": "tally-bench", "title": text,
        "poll_window": {"opens": "2026-12-20T08:00:00+07:00", "closes": "2026-12-20T16:00:00+07:00"},
        "contests": [{"id": CONTEST, "electorate": "insured", "max_selections": k, "title": text, "teams": [],
                      "candidates": [{"id": f"I{i:03d}", "number": i, "name": text, "team": None}
                                     for i in range(1, candidates + 1)]}],
    }


def load_election_key(bits: int) -> ElectionPublicKey:
    """A real election key (docs/protocol.md §9.2: key proofs and all — ``tally prepare`` checks
    them), cached in /tmp and shared with crypto_bench.py, verifier_bench.py, tally_scale.py."""
    cache = Path(f"/tmp/ssb_vote_bench_key_v2_{bits}.json")
    if cache.exists():
        return ElectionPublicKey.from_dict(json.loads(cache.read_text())["key"], allow_insecure_test_key=bits < 2048)
    print(f"generating a {bits}-bit election key (safe primes; minutes at 2048 bits) ...", file=sys.stderr)
    key, shares = generate_election_key(bits, ["t1", "t2", "t3", "t4", "t5"], 3, allow_insecure_test_key=bits < 2048)
    cache.write_text(json.dumps({"key": key.to_dict(), "shares": [s.to_dict() for s in shares]}))
    return key


def load_modulus(bits: int) -> int:
    return load_election_key(bits).public_key.n


# --- fast valid ballots ------------------------------------------------------------------------

_W: dict[str, Any] = {}


def _init(n: int, election_id: str) -> None:
    pk = PublicKey(n, allow_insecure_test_key=True)
    pk.short_table  # built once per worker process
    _W.update(pk=pk, election_id=election_id)


def bench_voter_key(pseudonym: str) -> Ed25519PrivateKey:
    """The benchmark voter's credential key, derived from the pseudonym (not a protocol.md §13.2 credential:
    the benchmark needs only the Ed25519 key and its public credential)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"ssbvote bench voter|" + pseudonym.encode()).digest())


def bench_party(pseudonym: str) -> str:
    """The ballot party ``<pseudonym>/<credential>`` (docs/protocol.md §13.4) of a benchmark voter."""
    return ballot_party(pseudonym, public_credential(bench_voter_key(pseudonym)))


def make_ballot(job: tuple[int, str, list[int], int]) -> tuple[str, bytes]:
    index, pseudonym, selections, k = job
    statement = ContestStatement(_W["pk"], _W["election_id"], CONTEST, bench_party(pseudonym), len(selections), k)
    ballot = encrypt_contest(statement, selections, secrets.token_bytes(32))
    return pseudonym, canonical_json(ballot.to_dict())


def ballot_cache(n: int, election_id: str, candidates: int, k: int) -> Path:
    """The /tmp cache of fast valid ballots (verifier_bench.py --fast reads it too); "v2": their
    party is ``<pseudonym>/<credential>``."""
    tag = hashlib.sha256(f"{n:x}|{election_id}|{candidates}|{k}|v3".encode()).hexdigest()[:16]
    return Path(f"/tmp/ssb_tally_bench_ballots_{tag}.jsonl")


def load_ballots(n: int, election_id: str, count: int, candidates: int, k: int, processes: int) -> list[tuple[str, bytes]]:
    cache = ballot_cache(n, election_id, candidates, k)
    have: list[tuple[str, bytes]] = []
    if cache.exists():
        for line in cache.read_bytes().splitlines():
            obj = json.loads(line)
            have.append((obj["pseudonym"], canonical_json(obj["ballot"])))
    if len(have) < count:
        missing = count - len(have)
        print(f"making {missing} ballots ({candidates} candidates, k={k}) in {processes} processes; cached in {cache}",
              file=sys.stderr)
        rng = random.Random()
        jobs = []
        for i in range(missing):
            chosen = set(rng.sample(range(candidates), rng.randint(0, k)))
            jobs.append((i, f"{rng.getrandbits(128):032x}", [int(j in chosen) for j in range(candidates)], k))
        start = time.perf_counter()
        with ProcessPoolExecutor(processes, initializer=_init, initargs=(n, election_id)) as pool, \
                open(cache, "ab") as out:
            for done, (pseudonym, ballot) in enumerate(pool.map(make_ballot, jobs, chunksize=2), start=1):
                out.write(b'{"ballot":' + ballot + b',"pseudonym":"' + pseudonym.encode() + b'"}\n')
                have.append((pseudonym, ballot))
                if done % 20 == 0:
                    print(f"  {done}/{missing}  ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return have[:count]


# --- board export --------------------------------------------------------------------------------

def write_closed_export(path: Path, manifest_bytes: bytes, election_key: bytes, pseudonyms: Sequence[str],
                        casts: Iterable[tuple[str, bytes]], cast_at: Callable[[int], str]) -> str:
    """A closed board export (election.export, record format 2) of ``casts`` — (pseudonym, canonical ballot
    JSON), streamed — in contest CONTEST, cast at ``cast_at(seq)``: fresh board and CA keys, the CA-signed
    credential list of the voters ``pseudonyms`` (their :func:`bench_voter_key`) and opening, every entry signed
    by its voter, the final checkpoint and an empty paper-vote list signed by two fresh officials.
    tally_scale.py writes its exports with this too.  Returns the CA's public key (the verifier's --ca-key)."""
    board_key, ca_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    officials = {name: Ed25519PrivateKey.generate() for name in ("official-a", "official-b")}
    election_id = sha256_hex(manifest_bytes)
    keys = {p: bench_voter_key(p) for p in pseudonyms}
    credentials = {p: public_credential(k) for p, k in keys.items()}
    listed = signed_credential_list(ca_key, election_id, {"insured": credentials.values()}, "2026-12-18T00:00:00.000000Z")
    opening = signed_opening(ca_key, election_id, election_key, board_key, listed,
                             {name: public_credential(k) for name, k in officials.items()}, "2026-12-20T00:00:00.000000Z")
    opening_hash = authority.object_hash(opening)
    chain = Chain(election_id)
    casting = Casting(chain, opening_hash)

    def board() -> Iterator[BoardItem]:
        for pseudonym, ballot in casts:
            yield casting.cast(pseudonym, CONTEST, sha256_hex(ballot), cast_at(chain.seq + 1), keys[pseudonym],
                               credentials[pseudonym]), ballot

    def final() -> Iterator[dict[str, Any]]:  # iterated after the board: the chain's last head
        yield sign(checkpoint(election_id, chain.seq, chain.head, "2026-12-20T09:00:00.000000Z", True,
                              opening=opening_hash), board_key)

    write_board_export(path, manifest=manifest_bytes, election_key=election_key, board_key=public_key_dict(board_key),
                       opening=opening, credentials=listed, revocations=[], board=board(), checkpoints=final(),
                       paper_overrides=signed_paper_list(election_id, opening_hash, [], "2026-12-20T10:00:00.000000Z",
                                                         list(officials.items())))
    return public_credential(ca_key)


def write_export(path: Path, man: dict[str, Any], n: int, ballots: list[tuple[str, bytes]]) -> None:
    key = load_election_key(n.bit_length())
    assert key.public_key.n == n
    write_closed_export(path, canonical_json(man), canonical_json(key.to_dict()), [p for p, _ in ballots], ballots,
                        lambda seq: f"2026-12-20T02:{seq // 60 % 60:02d}:{seq % 60:02d}.000000Z")


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from tally.prepare import prepare
export, work, processes, test_key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
start = time.perf_counter()
summary = prepare(Path(export), Path(work), processes=processes, allow_insecure_test_key=test_key, show_progress=True)
elapsed = time.perf_counter() - start
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(json.dumps({"elapsed": elapsed, "counted": summary.counted, "invalid": len(summary.invalid),
                  "rss_self": hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rss_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def one_batch_ms(n: int, election_id: str, ballots: list[tuple[str, bytes]]) -> float:
    """ms per ballot for verify + aggregate of one batch in this process (no pool, no I/O)."""
    from tally.prepare import CHUNK_SIZE
    from tally.verify import Item, VerifyContext, init_worker, process_chunk

    batch = ballots[:CHUNK_SIZE]
    lines = [b'{"ballot":' + b + b',"contest":"' + CONTEST.encode() + b'","pseudonym":"' + p.encode()
             + b'","seq":' + str(seq).encode() + b"}" for seq, (p, b) in enumerate(batch, start=1)]
    path = Path(tempfile.mkdtemp(prefix="ssb_tally_bench_batch_")) / "ballots.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    items, offset = [], 0
    for seq, ((p, b), line) in enumerate(zip(batch, lines), start=1):
        items.append(Item(seq, p, CONTEST, hashlib.sha256(b).hexdigest(), True, offset, len(line),
                          credential=public_credential(bench_voter_key(p))))
        offset += len(line) + 1
    contest = manifest_cache["contests"][0]
    init_worker(VerifyContext(n, True, election_id, {CONTEST: (len(contest["candidates"]), contest["max_selections"])},
                              str(path)))
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        result = process_chunk(items)
        best = min(best, time.perf_counter() - start)
        assert not result.invalid and result.counts[CONTEST] == len(items)
    shutil.rmtree(path.parent, ignore_errors=True)
    return best / len(items) * 1000


manifest_cache: dict[str, Any] = {}


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ballots", type=int, default=200)
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--candidates", type=int, default=228)
    parser.add_argument("--k", type=int, default=7)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    man = manifest(args.candidates, args.k)
    manifest_cache.update(man)
    election_id = hashlib.sha256(canonical_json(man)).hexdigest()
    n = load_modulus(args.bits)
    ballots = load_ballots(n, election_id, args.ballots, args.candidates, args.k, args.processes)
    batch_ms = one_batch_ms(n, election_id, ballots)
    root = Path(tempfile.mkdtemp(prefix="ssb_tally_bench_"))
    try:
        write_export(root / "export", man, n, ballots)
        del ballots
        size = (root / "export/board/ballots.jsonl").stat().st_size
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        done = subprocess.run([sys.executable, "-c", _CHILD, str(root / "export"), str(root / "work"),
                               str(args.processes), "1" if args.bits < 2048 else "0"],
                              env=env, stdout=subprocess.PIPE, check=True)
        report = json.loads(done.stdout)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert report["counted"][CONTEST] == args.ballots and not report["invalid"], report
    elapsed = report["elapsed"]
    per_core = args.ballots / elapsed / args.processes
    print(f"tally prepare: {args.ballots} ballots of {args.k}-of-{args.candidates} at {args.bits}-bit n "
          f"({size / 1e6:.0f} MB of ballots), {args.processes} processes, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  one batch in one process (verify + aggregate): {batch_ms:.0f} ms/ballot = "
          f"{1000 / batch_ms:.1f} ballots/s per core (target >= 20)")
    print(f"  whole prepare (copy, chain, verify, aggregate, counted set): {elapsed:.2f} s = "
          f"{args.ballots / elapsed:.1f} ballots/s, {per_core:.1f} ballots/s per core")
    print(f"  peak RSS: prepare process {report['rss_self'] / 1024:.0f} MiB (VmHWM), "
          f"largest worker {report['rss_children'] / 1024:.0f} MiB (ru_maxrss: an upper bound)")


if __name__ == "__main__":
    main()
