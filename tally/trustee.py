"""``trustee decrypt``: a trustee's offline step (docs/protocol.md §6.11, docs/record.md §4.3).

The trustee never decrypts a tally it is handed.  From its encrypted key-share file (with the
passphrase) and the closed board export — the tally's work folder holds a copy of it, and the
tally's ``counted.json`` — the tool

1. checks the election key (docs/protocol.md §6.2) and that its own share matches v_i;
2. checks the board export as ``tally prepare`` does (the key in it is the trustee's key, pinned
   by the opening; chain, checkpoints, credentials, revocations, voters' signatures, paper list);
3. rebuilds the counted set by the rules of docs/record.md §4.1; the tally's ``counted.json`` only
   says which of those ballots were excluded as invalid — their proofs are verified and must fail —
   and the proofs of a random sample of the counted ballots are verified (all of them with
   ``verify_all`` or without ``counted.json``);
4. multiplies the counted ciphertexts itself, for exactly the manifest's contests and candidates,
   and refuses any difference from the tally's ``encrypted_tally.json`` when one is given;
5. decrypts each contest of an election once, keeping a state file beside the share file; another
   tally for the same election and contest only with ``force``, which is recorded;
6. writes its decryption shares with proofs, signed with the trustee's signing key.

``check_share`` is the ceremony-time check a trustee runs on a new share file.
"""
from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from crypto.ceremony import read_encrypted_share
from crypto.credential import ballot_party
from crypto.encoding import canonical_json
from crypto.errors import InvalidInput
from crypto.hashing import object_hash
from crypto.hazmat.gmp import powmod
from crypto.threshold import TrusteeShare, compute_decryption_share, verify_decryption_share
from election.record import COUNTED, ENCRYPTED_TALLY, encrypted_tally_hash, signed_share_file

from . import board as board_mod
from .errors import BoardRefused, TallyError
from .files import atomic_write_json, iter_lines, read_json
from .prepare import _run_chunks, _to_count, chunk_size, verify_context
from .preverified import ballot_key
from .progress import progress
from .tallyfile import parse_tally, tally_dict

#: Counted ballots per contest whose proofs the tool verifies by default (docs/protocol.md §6.11).
SAMPLE_SIZE = 100
STATE_TYPE = "ssbvote-trustee-decryption"


class TrusteeRefused(TallyError):
    """The trustee tool refuses to decrypt (a doctored tally, counted set or key; a second
    decryption)."""


@dataclass
class DecryptSummary:
    trustee: str
    index: int
    election_id: str
    contests: dict[str, int]  # contest → counted ballots
    verified: int = 0  # ballots whose proofs the tool verified (sample, invalid claims)
    forced: list[str] = field(default_factory=list)  # contests decrypted again under --force
    repeated: list[str] = field(default_factory=list)  # contests decrypted before with the same tally


def default_state_path(share_path: Path) -> Path:
    """The state file beside the share file (docs/protocol.md §6.11)."""
    return share_path.with_name(share_path.name + ".decrypted.jsonl")


def _load_share(share_path: Path, passphrase: str, allow_insecure_test_key: bool) -> TrusteeShare:
    try:
        share = read_encrypted_share(share_path, passphrase, allow_insecure_test_key=allow_insecure_test_key)
    except InvalidInput as exc:
        raise TallyError(f"share file {share_path}: {exc}") from None
    key = share.election_key
    try:
        board_mod.check_election_key(key)
    except BoardRefused as exc:
        raise TrusteeRefused(str(exc)) from None
    n2 = key.public_key.n_square
    if powmod(key.verification_base, key.delta * share.secret_share, n2) != key.trustees[share.index - 1].verification_key:
        raise TrusteeRefused(f"share file {share_path}: the secret share does not match the verification key "
                             f"v_{share.index} of the election key (the dealer gave a wrong share)")
    return share


def check_share(share_path: Path, passphrase: str, *, allow_insecure_test_key: bool = False) -> tuple[TrusteeShare, str]:
    """Decrypt a share file, check its election key (docs/protocol.md §6.2) and that the share
    matches v_i; return the share and the SHA-256 of the key's canonical JSON (to compare with the
    published ``election_key.json``)."""
    share = _load_share(share_path, passphrase, allow_insecure_test_key)
    return share, object_hash(share.election_key.to_dict())


def _read_counted(path: Path, contest_ids: list[str]) -> tuple[dict[str, set[int]], dict[int, str]]:
    """(contest → counted seqs, seq → invalid reason) of the tally's counted.json (§4.1)."""
    obj = read_json(path, "counted set")
    try:
        contests = obj["contests"]
        if not isinstance(contests, dict) or sorted(contests) != sorted(contest_ids):
            raise TrusteeRefused(f"counted set {path}: contests {sorted(contests)} are not the manifest's "
                                 f"{sorted(contest_ids)}")
        counted = {c: {int(item["seq"]) for item in contests[c]["counted"]} for c in contest_ids}
        invalid = {int(item["seq"]): str(item["reason"]) for c in contest_ids for item in contests[c]["excluded"]
                   if str(item["reason"]).startswith("invalid")}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TrusteeRefused(f"counted set {path}: not a counted set (docs/record.md §4.1)") from None
    return counted, invalid


class _Skip:
    """The ``known`` set of tally.prepare: every counted ballot is known valid (its proofs are not
    checked) except those the trustee verifies."""

    def __init__(self, verify: set[str]) -> None:
        self.verify = verify

    def __contains__(self, key: object) -> bool:
        return key not in self.verify


def _compare_tally(path: Path, key: Any, mine: dict[str, Any], manifest: board_mod.Manifest) -> None:
    """Refuse any difference between the tally's encrypted tally file and the trustee's own."""
    try:
        election_id, theirs = parse_tally(read_json(path, "tally file"), key)
    except InvalidInput as exc:
        raise TrusteeRefused(f"tally file {path} is not a well-formed tally for this election key: {exc}") from None
    if election_id != mine["election_id"]:
        raise TrusteeRefused(f"tally file {path}: made for election {election_id}, not {mine['election_id']}")
    extra = sorted(set(theirs) - set(manifest.contest_ids))
    if extra:
        raise TrusteeRefused(f"tally file {path}: contest {extra[0]!r} is not in the manifest; refusing to decrypt it")
    for contest in manifest.contests:
        if contest.id not in theirs:
            raise TrusteeRefused(f"tally file {path}: contest {contest.id!r} of the manifest is missing")
        ciphertexts, counted = theirs[contest.id]
        own = mine["contests"][contest.id]
        if len(ciphertexts) != len(contest.candidates):
            raise TrusteeRefused(f"tally file {path}: contest {contest.id!r} has {len(ciphertexts)} ciphertexts, "
                                 f"the manifest {len(contest.candidates)} candidates")
        if [format(c, "x") for c in ciphertexts] != own["ciphertexts"]:
            raise TrusteeRefused(f"tally file {path}: contest {contest.id!r} differs from the product of the counted "
                                 "ballots on the board")
        if counted != own["counted_ballots"]:
            raise TrusteeRefused(f"tally file {path}: contest {contest.id!r} claims {counted} counted ballots, "
                                 f"the board has {own['counted_ballots']}")


def _check_state(state: Path, election_id: str, index: int, digests: dict[str, str], force: bool,
                 warn: Callable[[str], None]) -> tuple[list[str], list[str]]:
    """(forced, repeated) contests; refuse a second decryption of a contest with other ciphertexts
    unless ``force`` (docs/protocol.md §6.11)."""
    forced: list[str] = []
    repeated: list[str] = []
    if state.exists():
        for number, line in iter_lines(state, f"trustee state file {state}"):
            try:
                record = json.loads(line)
                if record.get("type") != STATE_TYPE:
                    raise ValueError
                if record["election_id"] != election_id or record["index"] != index:
                    continue
                earlier = dict(record["contests"])
            except (ValueError, KeyError, TypeError, AttributeError):
                raise TallyError(f"trustee state file {state}: line {number} is damaged; refusing to decrypt") from None
            for contest, digest in digests.items():
                if contest not in earlier:
                    continue
                if earlier[contest] == digest:
                    repeated.append(contest)
                elif not force:
                    raise TrusteeRefused(
                        f"contest {contest!r} of election {election_id} was already decrypted by this trustee "
                        f"({record.get('at')}) with other ciphertexts (state file {state}); a second decryption "
                        "is refused (--force decrypts and records it)")
                else:
                    forced.append(contest)
    if forced:
        warn(f"FORCED: decrypting again contest(s) {', '.join(sorted(set(forced)))} of election {election_id} with "
             f"other ciphertexts; recorded in {state}")
    return sorted(set(forced)), sorted(set(repeated) - set(forced))


def _append_state(state: Path, entry: dict[str, Any]) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise TallyError(f"cannot write the trustee state file {state} ({exc.strerror}); give a writable --state") from None
    with os.fdopen(fd, "ab") as handle:
        handle.write(canonical_json(entry) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def decrypt(share_path: Path, tally_path: Optional[Path], out_path: Path, passphrase: str,
            *, board: Optional[Path] = None, counted: Optional[Path] = None, state: Optional[Path] = None,
            force: bool = False, verify_all: bool = False, sample: int = SAMPLE_SIZE, processes: int = 1,
            ca_key: Optional[str] = None, allow_insecure_test_key: bool = False, show_progress: bool = False,
            warn: Callable[[str], None] = lambda _m: None) -> DecryptSummary:
    """Rebuild the tally from the closed board and decrypt it (docs/protocol.md §6.11).

    ``board``: the closed board export or the tally's work folder (default: the work folder of
    ``tally_path``, i.e. ``tally_path/../..``).  ``counted``: the tally's counted set (default
    ``board/tally/counted.json`` if present; without it every counted ballot's proofs are
    verified).  ``tally_path``: the tally's encrypted tally, compared with the trustee's own
    (default ``board/tally/encrypted_tally.json`` if present).  ``state``: the once-per-contest
    state file (default beside the share file)."""
    share_path, out_path = Path(share_path), Path(out_path)
    if board is None:
        if tally_path is None:
            raise TallyError("give the closed board export or the tally's work folder (--board)")
        board = Path(tally_path).resolve().parent.parent
    board = Path(board)
    if tally_path is None and (board / ENCRYPTED_TALLY).is_file():
        tally_path = board / ENCRYPTED_TALLY
    if counted is None and (board / COUNTED).is_file():
        counted = board / COUNTED
    state = Path(state) if state is not None else default_state_path(share_path)

    share = _load_share(share_path, passphrase, allow_insecure_test_key)
    key = share.election_key
    missing = [name for name in board_mod.EXPORT_FILES if not (board / name).is_file()]
    if missing:
        raise TrusteeRefused(f"{board} is not a closed board export: {missing[0]} is missing")
    checked = board_mod.check_board(board, allow_insecure_test_key, closed=True, show_progress=show_progress)
    if canonical_json(checked.key.to_dict()) != canonical_json(key.to_dict()):
        raise TrusteeRefused(f"the board export {board} is for another election key than this trustee's share")
    if ca_key is not None and checked.pins.opening["ca_key"] != ca_key:
        raise TrusteeRefused(f"the board's opening is signed by CA key {checked.pins.opening['ca_key']}, "
                             f"not by the credential authority's {ca_key}")
    manifest, index = checked.manifest, checked.index
    revoked = frozenset(checked.voters.revoked)
    paper = checked.paper
    election_id = manifest.election_id

    # 3. the counted set by the rules of record.md §4.1; what to verify
    rule_counted: dict[str, list[tuple[int, str]]] = {c: [] for c in manifest.contest_ids}  # (seq, ballot key)
    for number, line in iter_lines(board / "board/entries.jsonl", "board entries"):
        entry = json.loads(line)  # validated by check_board
        credential = entry["credential"]
        if _to_count(entry, number, index, revoked, paper):
            rule_counted[entry["contest"]].append(
                (number, ballot_key(entry["contest"], ballot_party(entry["pseudonym"], credential), entry["ballot_hash"])))
    claimed_counted: Optional[dict[str, set[int]]] = None
    claimed_invalid: dict[int, str] = {}
    if counted is not None and not verify_all:
        claimed_counted, claimed_invalid = _read_counted(Path(counted), manifest.contest_ids)
    to_verify: set[str] = set()
    verified_seqs: set[int] = set()
    chooser = secrets.SystemRandom()
    for contest, items in rule_counted.items():
        if claimed_counted is None:
            picked = items
        else:
            seqs = {seq for seq, _ in items}
            for seq in sorted(claimed_counted[contest] - seqs):
                raise TrusteeRefused(f"counted set: ballot seq {seq} of contest {contest!r} is counted, but it is not "
                                     "its credential's last ballot, or is revoked or on the paper list")
            for seq in sorted(seqs - claimed_counted[contest] - set(claimed_invalid)):
                raise TrusteeRefused(f"counted set: ballot seq {seq} of contest {contest!r} is its credential's last "
                                     "ballot but neither counted nor excluded as invalid")
            claimed = [it for it in items if it[0] in claimed_invalid]
            rest = [it for it in items if it[0] not in claimed_invalid]
            picked = claimed + (rest if len(rest) <= sample else chooser.sample(rest, sample))
        to_verify.update(k for _, k in picked)
        verified_seqs.update(seq for seq, _ in picked)
    to_count = {seq for items in rule_counted.values() for seq, _ in items}
    for seq in sorted(claimed_invalid):
        if seq not in to_count:
            raise TrusteeRefused(f"counted set: ballot seq {seq} is excluded as invalid, but it is not a ballot to "
                                 "count (superseded, revoked or paper vote)")

    # 4. multiply (and verify the chosen ballots' proofs) in the tally's chunks
    size = chunk_size(index.count, processes)
    context = verify_context(manifest, key.public_key.n, allow_insecure_test_key, board)
    n2 = key.public_key.n_square
    products: dict[str, list[int]] = {c.id: [1] * len(c.candidates) for c in manifest.contests}
    numbers = {c: 0 for c in manifest.contest_ids}
    invalid: dict[int, str] = {}
    stats = {"reused": 0, "computed": 0, "preverified": 0}
    with tempfile.TemporaryDirectory(prefix="ssbvote-trustee-") as cache, \
            progress("Rebuilding the tally       ", index.count, show_progress) as advance:
        for result in _run_chunks(board, Path(cache), context, index, revoked, paper, processes, advance, stats,
                                  size, None, _Skip(to_verify)):
            invalid.update(result.invalid)
            for contest, vector in result.products.items():
                acc = products[contest]
                for i, c in enumerate(vector):
                    acc[i] = acc[i] * c % n2
                numbers[contest] += result.counts[contest]
    for seq in sorted(claimed_invalid):
        if seq not in invalid:
            raise TrusteeRefused(f"counted set: ballot seq {seq} is excluded as invalid, but its proofs verify")
    if claimed_counted is not None:
        for seq in sorted(invalid):
            if seq not in claimed_invalid:
                raise TrusteeRefused(f"counted set: ballot seq {seq} is counted, but its proofs do not verify "
                                     f"({invalid[seq]})")
    mine = tally_dict(election_id, {c: (products[c], numbers[c]) for c in manifest.contest_ids})
    if tally_path is not None:
        _compare_tally(Path(tally_path), key, mine, manifest)

    # 5. once per contest
    digests = {c: object_hash(mine["contests"][c]["ciphertexts"]) for c in manifest.contest_ids}
    forced, repeated = _check_state(state, election_id, share.index, digests, force, warn)
    tally_hash = encrypted_tally_hash(mine)
    _append_state(state, {"type": STATE_TYPE, "election_id": election_id, "index": share.index,
                          "trustee": share.trustee, "contests": digests, "tally": tally_hash,
                          "forced": bool(forced), "at": datetime.now(timezone.utc).isoformat()})

    # 6. decrypt and sign
    shares: dict[str, Any] = {}
    for item in manifest.contests:
        ciphertexts = [int(x, 16) for x in mine["contests"][item.id]["ciphertexts"]]
        decryption = compute_decryption_share(share, election_id, item.id, ciphertexts)
        verify_decryption_share(key, election_id, item.id, ciphertexts, decryption)  # self-check
        shares[item.id] = decryption.to_dict()
    atomic_write_json(out_path, signed_share_file(election_id, share.trustee, share.index, tally_hash, shares,
                                                  share.signing_key))
    return DecryptSummary(share.trustee, share.index, election_id, numbers, len(verified_seqs), forced, repeated)
