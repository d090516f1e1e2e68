"""``tally prepare``: closed board export → counted set and encrypted tally (docs/record.md §3,
§4.1, §4.2).

Passes, all streaming:

1. copy the export into the work folder (byte for byte; the record is built from these copies);
2. check the opening and its pins, the credential list and revocations, the checkpoints, the
   paper-override list and, in one pass over ``entries.jsonl``, the hash chain and every voter's
   signature (tally/board.py), keeping per credential its highest seq;
3. read ``entries.jsonl`` and ``ballots.jsonl`` side by side in chunks of consecutive lines; a
   process pool checks every ballot against its entry and batch-verifies the ballots to count,
   returning per-candidate products;
4. write ``tally/counted.json`` and ``tally/encrypted_tally.json``.

Resumable: each chunk's result is saved (atomically) under ``tally/.prepare-<head>/`` and reused
after a restart; outputs are written atomically and are byte-identical however often the run is
interrupted (no clock is read; batch weights are random but decide only valid/invalid).
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Container, Iterator, Optional, Sequence

import gmpy2

from crypto.credential import ballot_party
from crypto.encoding import canonical_json
from election.export import OPTIONAL_EXPORT_FILES
from election import counted as counted_rule
from election.record import COUNTED as COUNTED, ENCRYPTED_TALLY as ENCRYPTED_TALLY  # re-exported

from . import board as board_mod
from .errors import BoardRefused, TallyError
from .witnesses import check as witness_check
from .files import AtomicWriter, atomic_copy, atomic_write_json, iter_line_spans, iter_lines, read_json
from .preverified import Preverified, ballot_key
from .progress import progress
from .verify import ChunkResult, Item, VerifyContext, init_worker, process_chunk, process_chunk_with_context

#: Ballots per batch at most (``--batch-size``): larger batches amortise the multi-exponentiation's
#: bucket overhead and the final n-th power; a failing batch is bisected (crypto.verify_many), so
#: size costs little there.  A worker holds one chunk's parsed ballots, so memory grows with it
#: (figures per batch size: docs/performance.md).
CHUNK_SIZE = 1024
#: Ballots per batch at least, when a small board is split so that every process gets work.
MIN_CHUNK_SIZE = 32


def chunk_size(ballots: int, processes: int, largest: Optional[int] = None) -> int:
    """Ballots per chunk: at most ``largest`` (default :data:`CHUNK_SIZE`), not below
    :data:`MIN_CHUNK_SIZE`, and such that the chunks come in whole rounds of ``processes``, so
    that no process idles while the others verify the last chunks (3,000 ballots on 2
    processes: 4 chunks of 750, not 1024 + 1024 + 952)."""
    largest = CHUNK_SIZE if largest is None else max(MIN_CHUNK_SIZE, largest)
    processes = max(1, processes)
    chunks = -(-max(1, -(-ballots // largest)) // processes) * processes
    return min(largest, max(MIN_CHUNK_SIZE, -(-ballots // chunks)))
#: Seconds to wait for the Dask scheduler (``--scheduler``) to answer.
SCHEDULER_TIMEOUT = 30


@dataclass
class PrepareSummary:
    entries: int
    counted: dict[str, int]
    excluded: dict[str, dict[str, int]]  # contest → reason kind → count
    invalid: list[tuple[int, str]]  # (seq, reason)
    chunks_reused: int = 0  # verification chunks taken from an interrupted earlier run
    chunks_computed: int = 0
    preverified: int = 0  # counted ballots whose proofs tally preverify had checked (§3.1)


def _classify(
    kind: str, seq: int, credential: str, pseudonym: str, index: board_mod.BoardIndex, revoked: frozenset[bytes],
    paper: frozenset[str], invalid: dict[int, str],
) -> Optional[str]:
    """The exclusion reason, or None if counted (docs/record.md §4.1: :mod:`election.counted`)."""
    return counted_rule.exclusion(kind, latest=index.latest(credential) == seq,
                                  revoked=bytes.fromhex(credential) in revoked, paper_vote=pseudonym in paper,
                                  invalid=invalid.get(seq))


def _to_count(entry: dict[str, Any], seq: int, index: board_mod.BoardIndex, revoked: frozenset[bytes],
              paper: frozenset[str]) -> bool:
    """The entry is counted unless its proofs fail (record.md §4.1: :mod:`election.counted`)."""
    credential = entry["credential"]
    return counted_rule.to_count(entry["kind"], latest=index.latest(credential) == seq,
                                 revoked=bytes.fromhex(credential) in revoked, paper_vote=entry["pseudonym"] in paper)


def verify_context(manifest: board_mod.Manifest, n: int, allow_insecure_test_key: bool, folder: Path) -> VerifyContext:
    """What the workers need to verify the ballots of the board export (or snapshot) in ``folder``."""
    return VerifyContext(n, allow_insecure_test_key, manifest.election_id,
                         {c.id: (len(c.candidates), c.max_selections) for c in manifest.contests},
                         str((folder / "board/ballots.jsonl").resolve()))


def _chunks(work: Path, index: board_mod.BoardIndex, revoked: frozenset[bytes], paper: frozenset[str],
            size: int, known: Optional[Container[str]] = None) -> Iterator[tuple[int, list[Item]]]:
    """Chunks of consecutive board positions; only offsets of the ballot lines, never their bytes,
    are kept (the workers read them).  A ballot is to count by :func:`_to_count`: a ballot entry
    (not an audit) that is its credential's latest, the credential not revoked and the pseudonym
    not on the paper list.  Ballots in ``known``
    are marked known valid (§3.1)."""
    entries = iter_lines(work / "board/entries.jsonl", "board entries")
    ballots = iter_line_spans(work / "board/ballots.jsonl", "board ballots")
    chunk: list[Item] = []
    for pair in itertools.zip_longest(entries, ballots):
        if pair[0] is None or pair[1] is None:
            raise BoardRefused("board: ballots.jsonl and entries.jsonl have different numbers of lines")
        (number, entry_line), (_, offset, length) = pair
        entry = json.loads(entry_line)  # validated in the first pass
        credential = entry["credential"]
        count = _to_count(entry, number, index, revoked, paper)
        known_valid = known is not None and count and ballot_key(
            entry["contest"], ballot_party(entry["pseudonym"], credential), entry["ballot_hash"]) in known
        chunk.append(Item(number, entry["pseudonym"], entry["contest"], entry["ballot_hash"], count,
                          offset, length, known_valid, credential))
        if len(chunk) == size:
            yield (chunk[0].seq - 1) // size, chunk
            chunk = []
    if chunk:
        yield (chunk[0].seq - 1) // size, chunk


def _dask_executor(scheduler: str) -> tuple[Any, int, Callable[[], None]]:
    """A concurrent.futures-style executor on a Dask distributed cluster, the number of tasks to
    keep in flight, and a closer.  Workers must see the work folder at the same path."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the installation
        raise TallyError('--scheduler needs Dask: pip install "ssbvote[scale]" (dask[distributed])') from None
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise TallyError(f"cannot connect to the Dask scheduler {scheduler}: {exc}") from None
    threads = sum(client.nthreads().values()) or 1  # type: ignore[no-untyped-call]
    return client.get_executor(pure=False), threads + 2, client.close  # type: ignore[no-untyped-call]


def _run_chunks(
    work: Path, cache: Path, context: VerifyContext, index: board_mod.BoardIndex, revoked: frozenset[bytes],
    paper: frozenset[str],
    processes: int, advance: Callable[[int], None], stats: dict[str, int], size: int,
    scheduler: Optional[str] = None, known: Optional[Container[str]] = None, only_unverified: bool = False,
) -> Iterator[ChunkResult]:
    """Yield every chunk's result (cached or computed), with a bounded number of chunks in
    flight (memory stays bounded: a 7-of-228 ballot line is ~1 MB at 2048 bits).

    Chunks run in a local process pool, or on a Dask cluster when ``scheduler`` is given; the
    results (and so the outputs) are the same either way, and either way each finished chunk is
    saved, so a run interrupted under one may be resumed under the other."""

    def cached(number: int) -> Optional[ChunkResult]:
        path = cache / f"chunk-{number:08d}.json"
        if path.exists():
            try:
                result = ChunkResult.from_json(json.loads(path.read_bytes()))
            except (ValueError, KeyError, TypeError):
                path.unlink()  # a damaged cache entry is recomputed
                return None
            stats["reused"] += 1
            return result
        return None

    def store(number: int, result: ChunkResult) -> ChunkResult:
        if result.board_error:
            raise BoardRefused(result.board_error)
        atomic_write_json(cache / f"chunk-{number:08d}.json", result.to_json())
        stats["computed"] += 1
        return result

    def chunks() -> Iterator[tuple[int, list[Item]]]:
        for number, items in _chunks(work, index, revoked, paper, size, known):
            stats["preverified"] += sum(item.known_valid for item in items)
            if only_unverified:  # tally preverify: only ballots whose proofs are still to check
                skipped = len(items)
                items = [item for item in items if item.count and not item.known_valid]
                advance(skipped - len(items))
                if not items:
                    continue
            yield number, items

    if processes <= 1 and scheduler is None:
        init_worker(context)
        for number, items in chunks():
            result = cached(number) or store(number, process_chunk(items))
            advance(len(items))
            yield result
        return
    if scheduler is not None:
        executor, slots, close = _dask_executor(scheduler)

        def submit(items: list[Item]) -> Future[ChunkResult]:
            return executor.submit(process_chunk_with_context, context, items)  # type: ignore[no-any-return]
    else:
        executor = ProcessPoolExecutor(max_workers=processes, initializer=init_worker, initargs=(context,))
        slots, close = processes + 2, (lambda: None)

        def submit(items: list[Item]) -> Future[ChunkResult]:
            return executor.submit(process_chunk, items)
    try:
        with executor:
            in_flight: dict[Future[ChunkResult], tuple[int, int]] = {}

            def drain(block_until: int) -> Iterator[ChunkResult]:
                while len(in_flight) > block_until:
                    done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                    for future in done:
                        number, size = in_flight.pop(future)
                        try:
                            outcome = future.result()
                        except (OSError, EOFError) as exc:
                            where = "a Dask worker" if scheduler is not None else "a worker process"
                            raise TallyError(f"{where} failed on chunk {number} ({exc}); with --scheduler the "
                                             f"workers must see {context.ballots_path}") from exc
                        result = store(number, outcome)
                        advance(size)
                        yield result

            try:
                for number, items in chunks():
                    hit = cached(number)
                    if hit is not None:
                        advance(len(items))
                        yield hit
                        continue
                    in_flight[submit(items)] = (number, len(items))
                    yield from drain(slots)
                yield from drain(0)
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise
    finally:
        close()


def _write_counted(
    work: Path, manifest: board_mod.Manifest, index: board_mod.BoardIndex, revoked: frozenset[bytes],
    paper: frozenset[str], invalid: dict[int, str],
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Stream ``tally/counted.json`` (§4.1) as canonical JSON without holding the lists."""
    parts_dir = work / "tally" / ".counted-parts"
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    contests = manifest.contest_ids
    handles = {(c, kind): open(parts_dir / f"{i}-{kind}", "w+b")
               for i, c in enumerate(contests) for kind in ("counted", "excluded")}
    first = {key: True for key in handles}
    counted = {c: 0 for c in contests}
    excluded: dict[str, dict[str, int]] = {c: {} for c in contests}
    try:
        for number, line in iter_lines(work / "board/entries.jsonl", "board entries"):
            entry = json.loads(line)
            contest, pseudonym = entry["contest"], entry["pseudonym"]
            reason = _classify(entry["kind"], number, entry["credential"], pseudonym, index, revoked, paper, invalid)
            if reason is None:
                key, item = (contest, "counted"), {"pseudonym": pseudonym, "seq": number}
                counted[contest] += 1
            else:
                key, item = (contest, "excluded"), {"pseudonym": pseudonym, "reason": reason, "seq": number}
                kind = reason.split(":")[0]
                excluded[contest][kind] = excluded[contest].get(kind, 0) + 1
            handles[key].write((b"" if first[key] else b",") + canonical_json(item))
            first[key] = False
        with AtomicWriter(work / COUNTED) as out:
            out.write(b'{"contests":{')
            for i, contest in enumerate(contests):
                out.write((b"," if i else b"") + canonical_json(contest) + b":{")
                for kind in ("counted", "excluded"):
                    handle = handles[(contest, kind)]
                    handle.seek(0)
                    out.write(b'"' + kind.encode() + b'":[')
                    shutil.copyfileobj(handle, out)
                    out.write(b"]" + (b"," if kind == "counted" else b""))
                out.write(b"}")
            out.write(b"}}")
    finally:
        for handle in handles.values():
            handle.close()
        shutil.rmtree(parts_dir, ignore_errors=True)
    return counted, excluded


def prepare(
    export: Path,
    work: Path,
    *,
    processes: Optional[int] = None,
    allow_insecure_test_key: bool = False,
    show_progress: bool = True,
    hardlink: bool = False,
    scheduler: Optional[str] = None,
    preverified: Optional[Path] = None,
    batch_size: Optional[int] = None,
    witnesses: Sequence[Path] = (),
) -> PrepareSummary:
    """Run the prepare stage; raise BoardRefused / TallyError with a clear message.

    ``scheduler``: address of a Dask distributed scheduler (``tcp://host:8786``) whose workers
    verify the chunks instead of a local pool of ``processes``; the workers must see the work
    folder at the same (absolute) path.  Outputs are byte-identical either way.

    ``preverified``: a file written by ``tally preverify`` (tally/preverified.py, docs/record.md
    §3.1); counted ballots found there are checked against their entries and aggregated without a
    second proof check.  Outputs are byte-identical with or without it.

    ``batch_size``: ballots verified in one batch at most (default :data:`CHUNK_SIZE`); lower it
    to use less memory per process.  Outputs do not depend on it.

    ``witnesses``: witness statements handed to the tally operator (docs/record.md §3.5), with
    those of the export's ``witnesses/``: prepare refuses to start when a pinned witness's latest
    statement is not on this board."""
    export, work = Path(export), Path(work)
    if not export.is_dir():
        raise TallyError(f"board export {export} is not a folder")
    if work.resolve() == export.resolve():
        raise TallyError("the work folder must differ from the board export folder")
    processes = processes or os.cpu_count() or 1
    missing = [name for name in board_mod.EXPORT_FILES if not (export / name).is_file()]
    for name in missing:
        if name == "board/checkpoints.jsonl":
            raise BoardRefused("no final checkpoint: board/checkpoints.jsonl is missing (the board is not closed)")
        if name == "paper_overrides.json":
            raise BoardRefused(board_mod.OVERRIDES_MISSING)
        raise BoardRefused(f"board export: {name} is missing")
    for name in board_mod.EXPORT_FILES:
        atomic_copy(export / name, work / name, link=hardlink)
    for name in OPTIONAL_EXPORT_FILES:  # poll_extensions.jsonl (record.md §2.7), when there is one
        if (export / name).is_file():
            atomic_copy(export / name, work / name, link=hardlink)
        else:
            (work / name).unlink(missing_ok=True)

    checked = board_mod.check_board(work, allow_insecure_test_key, closed=True, show_progress=show_progress)
    manifest, key, index, paper = checked.manifest, checked.key, checked.index, checked.paper
    witness_check(export, work, checked.pins.opening, checked.pins.hash, index.count, index.head,
                  witnesses)
    revoked = frozenset(checked.voters.revoked)

    tally_dir = work / "tally"
    size = chunk_size(index.count, processes, batch_size)
    cache = tally_dir / f".prepare-{index.head[:16]}-{size}"
    if tally_dir.exists():
        for stale in tally_dir.glob(".prepare-*"):
            if stale != cache:
                shutil.rmtree(stale, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)

    context = verify_context(manifest, key.public_key.n, allow_insecure_test_key, work)
    n2 = key.public_key.n_square
    products = {c.id: [gmpy2.mpz(1)] * len(c.candidates) for c in manifest.contests}
    valid_counts = {c.id: 0 for c in manifest.contests}
    invalid: dict[int, str] = {}
    stats = {"reused": 0, "computed": 0, "preverified": 0}
    known = None if preverified is None else Preverified.load(preverified, manifest.election_id, key.public_key.n)
    with progress("Verifying ballots          ", index.count, show_progress) as advance:
        for result in _run_chunks(work, cache, context, index, revoked, paper, processes, advance, stats, size,
                                  scheduler, known):
            invalid.update(result.invalid)
            for contest, vector in result.products.items():
                acc = products[contest]
                for i, c in enumerate(vector):
                    acc[i] = acc[i] * c % n2
                valid_counts[contest] += result.counts[contest]

    counted, excluded = _write_counted(work, manifest, index, revoked, paper, invalid)
    if counted != valid_counts:  # pragma: no cover - two passes must agree
        raise TallyError(f"internal error: counted set {counted} differs from aggregated {valid_counts}")
    atomic_write_json(work / ENCRYPTED_TALLY, {
        "election_id": manifest.election_id,
        "contests": {
            c.id: {"ciphertexts": [format(int(x), "x") for x in products[c.id]], "counted_ballots": counted[c.id]}
            for c in manifest.contests
        },
    })
    shutil.rmtree(cache, ignore_errors=True)
    return PrepareSummary(index.count, counted, excluded, sorted(invalid.items()), stats["reused"], stats["computed"],
                          stats["preverified"])


def load_encrypted_tally(path: Path) -> Any:
    return read_json(path, "encrypted tally")
