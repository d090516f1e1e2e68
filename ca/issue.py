"""Issuing credentials (docs/record.md §6.1–§6.2, docs/protocol.md §13.1–§13.2).

    summary = issue_credentials(manifest_bytes, [Path("insured.csv")], ca_key, Path("issue"))

reads and checks every roll first (nothing is written if any line is wrong; the roll's attribute
columns are checked against the manifest and route each voter to one contest, docs/manifest.md
§4.2–§4.3, the rule the voting server applies at roll import), then, per
electorate: one fresh credential per voter (:func:`crypto.credential.generate_credential`),
its voter key for this election and public credential; the letters and the mail-merge CSV are
streamed to ``DIR/letters/`` as they are made; ``DIR/mapping-<electorate>.json`` and the signed
``DIR/credentials.json`` are written at the end.  ``DIR/issue-<electorate>.json`` is created
first and exclusively: an electorate is issued once per folder (an interrupted issue is
refused too: start again in a new folder, since half its letters may have been printed).

The private credentials are returned in :attr:`IssueSummary.credentials` only when asked
(tests, the demo and the simulation); the command line never keeps them.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.credential import credential_qr_text, generate_credential, public_credential, voter_key
from crypto.encoding import canonical_json
from election import authority
from election.errors import ManifestInvalid
from election.manifest import Manifest, parse_text
from election.roll import Roll, RollInvalid, read_roll
from election.signed import sign, verify

from . import files
from .errors import CAError, RollRefused
from .keys import fingerprint, public_hex
from .letters import MAIL_MERGE, LetterContext, MailMerge, QrMaker, letters_dir, render_letter

#: Voters per task given to a worker process.
CHUNK = 200

#: progress(electorate, voters done, voters in the electorate)
Progress = Callable[[str, int, int], None]


@dataclass
class IssueSummary:
    election_id: str
    out_dir: Path
    ca_key: str
    fingerprint: str
    voters: dict[str, int]  # electorate → credentials issued
    credentials_hash: str  # SHA-256 hex of credentials.json (the opening's pin)
    seconds: float
    #: electorate → voter key → public credential (the mapping files' contents)
    public_credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    #: electorate → voter key → contest id (the voter's route, the mapping files' ``contests``)
    routes: dict[str, dict[str, str]] = field(default_factory=dict)
    #: voter key → credential text; only with ``keep_credentials`` (never written but to letters)
    credentials: dict[str, str] = field(default_factory=dict)


def load_manifest(raw: bytes) -> Manifest:
    """The manifest from its file bytes (canonical or as the officials wrote it): the election
    id is the SHA-256 of its canonical JSON (docs/manifest.md §1.1)."""
    try:
        return Manifest.from_dict(parse_text(raw.decode("utf-8-sig")))
    except UnicodeDecodeError:
        raise CAError("the manifest is not UTF-8") from None
    except ManifestInvalid as exc:
        raise CAError("the manifest is invalid:\n  " + "\n  ".join(exc.problems)) from None


def read_rolls(paths: Sequence[Path], manifest: Manifest) -> dict[str, list[tuple[Path, Roll]]]:
    """Every roll, checked (docs/manifest.md §3, its attribute columns §4.3), grouped by
    electorate in the order given.

    A voter key may appear once per electorate and a person on one roll only, across all the
    files; a roll of an electorate without a contest in the manifest is refused.  Every problem
    of every file is named (:class:`RollRefused`)."""
    problems: list[str] = []
    by_electorate: dict[str, list[tuple[Path, Roll]]] = {}
    keys: dict[str, set[str]] = {"insured": set(), "employer": set()}
    persons: dict[str, set[str]] = {"insured": set(), "employer": set()}

    def known(electorate: str) -> tuple[set[str], set[str]]:
        return keys[electorate], persons["employer" if electorate == "insured" else "insured"]

    for path in paths:
        try:
            roll = read_roll(path, known=known, manifest=manifest)
        except RollInvalid as exc:
            problems += [f"{path.name}: {p}" for p in exc.problems]
            continue
        except OSError as exc:
            problems.append(f"{path}: cannot read ({exc.strerror})")
            continue
        if not manifest.contests_of(roll.electorate):
            problems.append(f"{path.name}: a roll of {roll.electorate} voters, but the manifest "
                            f"has no {roll.electorate} contest")
            continue
        by_electorate.setdefault(roll.electorate, []).append((path, roll))
        for key, attribute, _ in roll.rows:
            keys[roll.electorate].add(key)
            persons[roll.electorate].add(key if roll.electorate == "insured" else attribute)
    if problems:
        raise RollRefused(problems)
    return by_electorate


# --- the work of one process -----------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    ctx: LetterContext
    electorate: str
    rows: list[tuple[str, str, str]]
    letters: Optional[Path]


_qr: Optional[QrMaker] = None


def _issue_rows(job: _Job) -> list[tuple[str, str]]:
    """(credential, public credential) for each row, its letter written."""
    global _qr
    if _qr is None:
        _qr = QrMaker()
    election_id = job.ctx.election_id
    out: list[tuple[str, str]] = []
    for key, _attribute, name in job.rows:
        credential = generate_credential()
        public = public_credential(voter_key(credential, election_id))
        render_letter(job.ctx, _qr, job.electorate, key, name, credential,
                      credential_qr_text(election_id, credential), job.letters)
        out.append((credential, public))
    return out


def _jobs(ctx: LetterContext, electorate: str, rows: list[tuple[str, str, str]],
          letters: Optional[Path]) -> Iterator[_Job]:
    for start in range(0, len(rows), CHUNK):
        yield _Job(ctx, electorate, rows[start:start + CHUNK], letters)


# --- the folder ------------------------------------------------------------------------------


def existing_list(out_dir: Path, key: Ed25519PrivateKey, election_id: str) -> dict[str, list[str]]:
    """The contests of ``DIR/credentials.json`` if there is one: it must be this CA's and
    this election's (a folder holds one election of one CA)."""
    path = out_dir / files.CREDENTIALS
    if not path.exists():
        return {}
    obj = files.read_json(path, "credential list")
    problems = authority.check_credential_list(obj)
    if problems:
        raise CAError(f"{path} is malformed: " + "; ".join(problems))
    if not verify(obj, public_hex(key)):
        raise CAError(f"{path} is not signed by this CA key: this folder belongs to another CA")
    if obj["election_id"] != election_id:
        raise CAError(f"{path} is of election {obj['election_id']}, not {election_id}")
    return {str(e): list(c) for e, c in obj["contests"].items()}


def _check_folder(out_dir: Path, election_id: str,
                  electorates: Sequence[str]) -> None:
    published = out_dir / files.MANIFEST
    if published.exists() and hashlib.sha256(published.read_bytes()).hexdigest() != election_id:
        raise CAError(f"{out_dir} holds the issue of another election ({published} differs)")
    for electorate in electorates:
        record = out_dir / files.issue_name(electorate)
        if record.exists():
            obj = files.read_json(record, "issue record")
            when = obj.get("finished") if isinstance(obj, dict) else None
            if when:
                raise CAError(f"{out_dir} already has an issue for the {electorate} roll "
                              f"({record.name}, finished {when}): issuing again would give every "
                              f"voter a second credential.  A lost letter: 'python -m ca revoke "
                              f"--reissue'.")
            raise CAError(f"{out_dir} has an interrupted issue for the {electorate} roll "
                          f"({record.name}): its letters may be printed already.  Erase it "
                          f"('python -m ca erase'), destroy its printed letters and issue again "
                          f"into a new folder.")


def _start_record(out_dir: Path, electorate: str, election_id: str,
                  rolls: list[tuple[Path, Roll]]) -> dict[str, Any]:
    """``DIR/issue-<electorate>.json``, created exclusively: which files were issued, when."""
    record: dict[str, Any] = {
        "type": "ssbvote-ca-issue", "election_id": election_id, "electorate": electorate,
        "rolls": [{"file": path.name, "sha256": _file_hash(path), "voters": len(roll.rows)}
                  for path, roll in rolls],
        "started": files.now_iso(), "finished": None,
    }
    path = out_dir / files.issue_name(electorate)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise CAError(f"{out_dir} already has an issue for the {electorate} roll") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(canonical_json(record))
    return record


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def issue_credentials(manifest_bytes: bytes, rolls: Sequence[Path], key: Ed25519PrivateKey,
                      out_dir: Path, *, processes: int = 1, write_letters: bool = True,
                      keep_credentials: bool = True,
                      progress: Optional[Progress] = None) -> IssueSummary:
    """Issue one credential per voter of ``rolls`` into ``out_dir`` (docs/record.md §6.1).

    ``processes`` > 1 makes the credentials and letters in that many worker processes (the
    letters' QR codes are most of the work).  ``write_letters=False`` skips the HTML letters
    and the mail-merge CSV (simulations: the credentials are then only in the summary).
    Raises :class:`CAError` (:class:`RollRefused` for a bad roll) before writing anything.
    """
    started = time.perf_counter()
    manifest = load_manifest(manifest_bytes)
    election_id = manifest.election_id
    by_electorate = read_rolls(list(rolls), manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_folder(out_dir, election_id, list(by_electorate))
    listed = existing_list(out_dir, key, election_id)
    for electorate in by_electorate:
        for contest in manifest.contests_of(electorate):
            if contest.id in listed:
                raise CAError(f"{out_dir / files.CREDENTIALS} already lists contest {contest.id} "
                              f"of the {electorate} electorate")

    ca_key = public_hex(key)
    ctx = LetterContext(election_id, manifest.title.th, manifest.title.en, ca_key, fingerprint(ca_key))
    files.write_atomic(out_dir / files.MANIFEST, canonical_json(_manifest_dict(manifest_bytes)))  # public
    letters = letters_dir(out_dir) if write_letters else None
    seen_public = {c for creds in listed.values() for c in creds}
    summary = IssueSummary(election_id, out_dir, ca_key, ctx.fingerprint, {}, "", 0.0)

    for electorate, electorate_rolls in by_electorate.items():
        record = _start_record(out_dir, electorate, election_id, electorate_rolls)
        rows = [row for _path, roll in electorate_rolls for row in roll.rows]
        # docs/manifest.md §4.2: each voter's route, by the one rule (Manifest.route)
        routes = [r for _path, roll in electorate_rolls for r in roll.routes(manifest)]
        mapping: dict[str, str] = {}
        route_of: dict[str, str] = {}
        merge = MailMerge(letters / MAIL_MERGE) if letters is not None else None
        try:
            done = 0
            for chunk, results in zip(_chunks(rows), _run(_jobs(ctx, electorate, rows, letters), processes)):
                for (voter, _attribute, name), (credential, public), route in zip(
                        chunk, results, routes[done:done + len(chunk)]):
                    if public in seen_public:  # 2^-130 per pair: a broken random generator
                        raise CAError("two voters got the same credential: the random number "
                                      "generator of this machine is broken; erase this folder")
                    seen_public.add(public)
                    mapping[voter] = public
                    route_of[voter] = route
                    if merge is not None:
                        merge.row(voter, name, electorate, credential,
                                  credential_qr_text(election_id, credential))
                    if keep_credentials:
                        summary.credentials[voter] = credential
                done += len(chunk)
                if progress is not None:
                    progress(electorate, done, len(rows))
        finally:
            if merge is not None:
                merge.close()
        files.write_json(out_dir / files.mapping_name(electorate),
                         authority.mapping(election_id, electorate, mapping, route_of))
        record["finished"] = files.now_iso()
        files.write_json(out_dir / files.issue_name(electorate), record)
        for voter, public in mapping.items():  # record.md §6.2: the lists per contest
            listed.setdefault(route_of[voter], []).append(public)
        summary.voters[electorate] = len(mapping)
        summary.public_credentials[electorate] = mapping
        summary.routes[electorate] = route_of

    signed = sign(authority.credential_list(election_id, files.now_iso(), listed), key)
    data = canonical_json(signed)
    files.write_atomic(out_dir / files.CREDENTIALS, data)
    summary.credentials_hash = hashlib.sha256(data).hexdigest()
    summary.seconds = time.perf_counter() - started
    return summary


def _manifest_dict(raw: bytes) -> Any:
    return parse_text(raw.decode("utf-8-sig"))


def _chunks(rows: list[tuple[str, str, str]]) -> Iterator[list[tuple[str, str, str]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def _run(jobs: Iterator[_Job], processes: int) -> Iterator[list[tuple[str, str]]]:
    if processes <= 1:
        yield from map(_issue_rows, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        yield from pool.imap(_issue_rows, jobs)
