"""The golden election record (issue 14): a small election built with fixed seeds, whose every
byte is committed under ``tests/vectors/golden-record/``.

The board is built by ``tests/support/board_builder.py`` (seeded; the committed 512-bit 3-of-5
key of ``test_key.json``; record format version 2: seeded CA, officials' and voters' credentials,
one credential revoked with a replacement that votes again and one revoked for good; record
format version 3: two voters audit an encryption before casting, so the record holds audit
entries with their seeds, docs/protocol.md §14), counted by
``tally prepare``, decrypted by trustees 1, 3 and 5 and finished into a record.  The CA's public
key, which an observer gives the verifier (``--ca-key``), is committed beside it in
``tests/vectors/golden-record-ca-key.hex``.  The only fresh randomness of that pipeline — the nonces of the
trustees' decryption-share proofs (docs/protocol.md §6.3) — is drawn here from a seeded
generator instead of ``secrets``, so the record is a pure function of this file.

Regenerate (only for a deliberate, documented format change):
    .venv/bin/python -m tests.vectors.golden_record
"""
from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path
from typing import Iterator
from unittest import mock

GOLDEN = Path(__file__).resolve().parent / "golden-record"
GOLDEN_CA_KEY = Path(__file__).resolve().parent / "golden-record-ca-key.hex"
CA_KEY = "ca-key.hex"  # written by build() beside the record folder
TRUSTEES_USED = (1, 3, 5)
BOARD_ARGS = dict(insured=12, employers=5, revote_rate=0.4, paper=2, trustees=5, threshold=3,
                  key_bits=512, seed=2026, checkpoint_every=7, scrypt_log2_n=14, revoked=1, revoked_final=1,
                  audits=2)


def _seeded_bits(seed: int) -> "mock._patch[object]":
    rng = random.Random(seed)
    return mock.patch("crypto.threshold.random_bits", lambda bits: rng.getrandbits(bits))


def build(base: Path) -> Path:
    """Build the golden record under ``base`` and return the record folder; the CA's public key
    (64 hex) is written to ``base / CA_KEY``."""
    from tally.finish import finish
    from tally.prepare import ENCRYPTED_TALLY, prepare
    from tally.trustee import decrypt
    from tests.support.board_builder import build_board_export

    fx = build_board_export(base / "board", shares_dir=base / "trustees", **BOARD_ARGS)  # type: ignore[arg-type]
    (base / CA_KEY).write_text(fx.ca_public_hex + "\n")
    work = base / "work"
    prepare(fx.path, work, processes=1, allow_insecure_test_key=True, show_progress=False)
    shares = []
    with _seeded_bits(14):
        for i in TRUSTEES_USED:
            out = base / f"share-{i}.json"
            decrypt(fx.share_files[i - 1], work / ENCRYPTED_TALLY, out, fx.passphrases[i - 1],
                    allow_insecure_test_key=True)
            shares.append(out)
    record = base / "record"
    finish(work, shares, record, allow_insecure_test_key=True)
    return record


def files(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path.relative_to(root).as_posix(), path.read_bytes()


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        record = build(Path(tmp))
        if GOLDEN.exists():
            shutil.rmtree(GOLDEN)
        shutil.copytree(record, GOLDEN)
        shutil.copyfile(Path(tmp) / CA_KEY, GOLDEN_CA_KEY)
    print(f"wrote {sum(1 for _ in files(GOLDEN))} files to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
