"""Run the tally stages through the Python API (the CLI tests use CliRunner)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from tally.finish import FinishSummary, finish
from tally.prepare import ENCRYPTED_TALLY, PrepareSummary, prepare
from tally.trustee import decrypt
from tests.support.board_builder import BoardFixture

if TYPE_CHECKING:
    import pytest


def run_prepare(board: BoardFixture, work: Path, processes: int = 1) -> PrepareSummary:
    return prepare(board.path, work, processes=processes, allow_insecure_test_key=True, show_progress=False)


def trustee_shares(board: BoardFixture, work: Path, out_dir: Path, indexes: Sequence[int]) -> list[Path]:
    out = []
    for i in indexes:
        path = out_dir / f"share-{i}.json"
        decrypt(board.share_files[i - 1], work / ENCRYPTED_TALLY, path, board.passphrases[i - 1],
                allow_insecure_test_key=True)
        out.append(path)
    return out


def colluding_trustee_shares(board: BoardFixture, work: Path, out_dir: Path, indexes: Sequence[int]) -> list[Path]:
    """Signed decryption share files of the tally's own encrypted tally, made without the trustee
    tool (which rebuilds the tally from the board and may refuse): trustees who go along with the
    tally operator.  For tests of what the verifier then catches."""
    from crypto.encoding import canonical_json
    from crypto.threshold import compute_decryption_share
    from election.record import encrypted_tally_hash, signed_share_file
    from tally.files import read_json
    from tally.tallyfile import parse_tally

    tally = read_json(work / ENCRYPTED_TALLY, "tally")
    election_id, contests = parse_tally(tally, board.election_key)
    out = []
    for i in indexes:
        share = board.trustee_shares[i - 1]
        shares = {c: compute_decryption_share(share, election_id, c, v[0]).to_dict() for c, v in contests.items()}
        path = out_dir / f"colluding-share-{i}.json"
        path.write_bytes(canonical_json(signed_share_file(election_id, share.trustee, i, encrypted_tally_hash(tally),
                                                          shares, share.signing_key)))
        out.append(path)
    return out


def resign_share_file(board: BoardFixture, path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` (a decryption share file, docs/record.md §4.3) re-signed by the trustee it
    names: a trustee who signs a bad share."""
    from crypto.encoding import canonical_json
    from election.signed import sign, unsigned

    path.write_bytes(canonical_json(sign(unsigned(doc), board.trustee_shares[doc["index"] - 1].signing_key)))


def run_finish(work: Path, shares: Sequence[Path], record: Path, warnings: list[str] | None = None) -> FinishSummary:
    sink = warnings if warnings is not None else []
    return finish(work, shares, record, allow_insecure_test_key=True, warn=sink.append)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def die_after_chunks(monkeypatch: "pytest.MonkeyPatch", chunks: int = 2) -> dict[str, int]:
    """Make ``tally prepare`` die (KeyboardInterrupt) when it starts chunk ``chunks + 1``, as if
    killed after ``chunks`` chunks were saved.  Returns the counter of chunks started (``"n"``),
    which a test may reset to keep counting after the interruption."""
    import tally.prepare as prepare_mod

    real = prepare_mod.process_chunk
    calls = {"n": 0}

    def dying(items):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == chunks + 1:
            raise KeyboardInterrupt
        return real(items)

    monkeypatch.setattr(prepare_mod, "process_chunk", dying)
    return calls
