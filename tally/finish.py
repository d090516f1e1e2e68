"""``tally finish``: verify trustees' shares, combine, write results and the election record
(docs/record.md §4.3–§4.5).

Every offered share file is checked (shape, trustee name and index against the election key,
the trustee's signature over it for this election and this encrypted tally, every contest's
proof: docs/record.md §4.3, docs/protocol.md §6.3, §6.11); a failing one is rejected naming the
trustee and the others are used.  The election key itself is checked first (docs/protocol.md
§6.2).  Any t valid shares combine (the t lowest indexes, §6.4).  The record is
written file by file atomically, ``HASHES.json`` last: a record without ``HASHES.json`` is
incomplete, and re-running with the same inputs rewrites the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from crypto.encoding import canonical_json
from crypto.errors import InvalidInput
from crypto.hazmat import combine_unchecked  # the shares are verified here first
from crypto.threshold import DecryptionShare, verify_decryption_share
from election.export import EXPORT_FILES, OPTIONAL_EXPORT_FILES
from election.witness import WITNESS_DIR
from election.record import (COUNTED, ENCRYPTED_TALLY, FORMAT, FORMAT_FILE, HASHES, RESULTS, SHARES_DIR,
                             encrypted_tally_hash, hashes, share_file)

from . import board as board_mod
from .errors import TallyError
from .files import TMP_SUFFIX, atomic_copy, atomic_write_bytes, atomic_write_json, read_json
from .tallyfile import parse_share_file, parse_tally

COPIED = EXPORT_FILES + (COUNTED, ENCRYPTED_TALLY)


@dataclass
class FinishSummary:
    trustees_used: list[int]
    valid: list[int]
    rejected: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)


def _rank(candidates: list[dict[str, Any]], k: int) -> tuple[list[str], bool]:
    """Elected ids in rank order and the last-seat tie flag (docs/record.md §4.4); ``k`` is the
    contest's ``seats`` (:attr:`election.manifest.Contest.seats`)."""
    ranked = sorted(candidates, key=lambda c: (-c["votes"], c["number"]))
    tie = 0 < k < len(ranked) and ranked[k - 1]["votes"] == ranked[k]["votes"]
    return [c["id"] for c in ranked[:k]], tie


def _load_shares(
    paths: Sequence[Path], key: Any, election_id: str, contests: dict[str, tuple[list[int], int]],
    warn: Callable[[str], None], tally_hash: str,
) -> tuple[dict[int, tuple[str, dict[str, DecryptionShare], dict[str, Any]]], list[str]]:
    valid: dict[int, tuple[str, dict[str, DecryptionShare], dict[str, Any]]] = {}
    rejected: list[str] = []

    def reject(message: str) -> None:
        rejected.append(message)
        warn(message)

    for path in paths:
        try:
            obj = read_json(path, f"share file {path}")
        except TallyError as exc:
            reject(f"rejected: {exc}")
            continue
        who = f"share file {path}"
        if isinstance(obj, dict) and isinstance(obj.get("trustee"), str):
            who = f"trustee {obj['trustee']!r} (index {obj.get('index')!r}, file {path})"
        try:
            index, name, shares = parse_share_file(obj, key, sorted(contests), election_id=election_id,
                                                   tally_hash=tally_hash)
            for contest_id, share in shares.items():
                try:
                    verify_decryption_share(key, election_id, contest_id, contests[contest_id][0], share)
                except InvalidInput as exc:
                    raise InvalidInput(f"contest {contest_id!r}: {exc}") from None
        except InvalidInput as exc:
            reject(f"rejected the decryption share of {who}: {exc}")
            continue
        if index in valid:
            reject(f"rejected the decryption share of {who}: trustee {index} already gave a valid share")
            continue
        valid[index] = (name, shares, obj)
    return valid, rejected


def _prepare_record_dir(record: Path, share_names: set[str]) -> None:
    """Remove what an interrupted or earlier run of ours left; refuse foreign files."""
    record.mkdir(parents=True, exist_ok=True)
    (record / HASHES).unlink(missing_ok=True)  # the record is incomplete until rewritten
    expected = {FORMAT_FILE, RESULTS, *COPIED, *share_names}
    for path in sorted(record.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(record).as_posix()
        if rel.endswith(TMP_SUFFIX) or ((rel.startswith((SHARES_DIR + "/trustee-", WITNESS_DIR + "/"))
                                         or rel in OPTIONAL_EXPORT_FILES) and rel not in expected):
            path.unlink()
        elif rel not in expected:
            raise TallyError(f"record folder {record} contains {rel}, which is not part of a record; "
                             "use an empty folder")


def finish(
    work: Path,
    share_paths: Sequence[Path],
    record: Path,
    *,
    allow_insecure_test_key: bool = False,
    warn: Callable[[str], None] = lambda _m: None,
    hardlink: bool = False,
) -> FinishSummary:
    work, record = Path(work), Path(record)
    for rel in (COUNTED, ENCRYPTED_TALLY):
        if not (work / rel).is_file():
            raise TallyError(f"{work / rel} is missing: run `tally prepare` first")
    manifest = board_mod.load_manifest(work / "manifest.json")
    key = board_mod.load_election_key(work / "election_key.json", allow_insecure_test_key)
    board_mod.check_election_key(key)
    tally_obj = read_json(work / ENCRYPTED_TALLY, "encrypted tally")
    try:
        election_id, contests = parse_tally(tally_obj, key)
    except InvalidInput as exc:
        raise TallyError(f"encrypted tally: {exc}") from None
    if election_id != manifest.election_id or sorted(contests) != manifest.contest_ids:
        raise TallyError("encrypted tally: election id or contests differ from the manifest")

    valid, rejected = _load_shares([Path(p) for p in share_paths], key, election_id, contests, warn,
                                   encrypted_tally_hash(tally_obj))
    t = key.threshold
    if len(valid) < t:
        names = ", ".join(f"{valid[i][0]} ({i})" for i in sorted(valid)) or "none"
        raise TallyError(f"need {t} valid decryption shares of the {len(key.trustees)} trustees, "
                         f"got {len(valid)} (valid: {names})")
    used = sorted(valid)[:t]

    results: dict[str, Any] = {"election_id": election_id, "trustees_used": used, "contests": {}}
    for contest in manifest.contests:
        ciphertexts, counted = contests[contest.id]
        if len(ciphertexts) != len(contest.candidates):
            raise TallyError(f"encrypted tally: contest {contest.id!r} has {len(ciphertexts)} ciphertexts, "
                             f"the manifest {len(contest.candidates)} candidates")
        try:
            votes = combine_unchecked(key, [valid[i][1][contest.id] for i in used])
        except InvalidInput as exc:
            raise TallyError(f"contest {contest.id!r}: {exc}") from None
        if any(v > counted for v in votes) or sum(votes) > contest.max_selections * counted:
            raise TallyError(f"contest {contest.id!r}: decrypted counts are implausible for {counted} ballots")
        candidates = [
            {"id": c.id, "number": c.number, "name": c.name.to_dict(), "team": c.team, "votes": v}
            for c, v in zip(contest.candidates, votes)
        ]
        elected, tie = _rank(candidates, contest.seats)
        results["contests"][contest.id] = {
            "counted_ballots": counted, "max_selections": contest.max_selections,
            "seats": contest.seats, "candidates": candidates, "elected": elected, "tie_at_last_seat": tie,
        }

    share_names = {share_file(i) for i in valid}
    # the witnesses' co-signatures of the final head that prepare kept (docs/record.md §3.5)
    witness_names = {p.relative_to(work).as_posix() for p in sorted((work / WITNESS_DIR).glob("*.json"))}
    optional = {rel for rel in OPTIONAL_EXPORT_FILES if (work / rel).is_file()}  # record.md §2.7
    _prepare_record_dir(record, share_names | witness_names | optional)
    for rel in (*COPIED, *sorted(optional), *sorted(witness_names)):
        atomic_copy(work / rel, record / rel, link=hardlink)
    for i in sorted(valid):
        atomic_write_json(record / share_file(i), valid[i][2])  # the trustee's signed file, as signed
    atomic_write_json(record / RESULTS, results)
    atomic_write_json(record / FORMAT_FILE, FORMAT)
    write_hashes(record)
    return FinishSummary(used, sorted(valid), rejected, results)


def write_hashes(record: Path) -> dict[str, Any]:
    """HASHES.json (record.md §4.5): every other file's SHA-256 and the hash of that listing."""
    listing = hashes(record)
    atomic_write_bytes(record / HASHES, canonical_json(listing))
    return listing
