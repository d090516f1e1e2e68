"""``trustee decrypt``: a trustee's offline step (docs/record.md §4.3, docs/protocol.md §6.3).

Input: the trustee's encrypted share file (§6.5) with its passphrase, and the tally file
(``tally/encrypted_tally.json``).  Output: the trustee's decryption shares with proofs, one per
contest, each bound to the election id and contest id.  Needs no network and no other file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crypto.ceremony import read_encrypted_share
from crypto.errors import InvalidInput
from crypto.threshold import compute_decryption_share, verify_decryption_share

from .errors import TallyError
from .files import atomic_write_json, read_json
from .tallyfile import parse_tally, share_file_dict


@dataclass
class DecryptSummary:
    trustee: str
    index: int
    election_id: str
    contests: dict[str, int]  # contest → counted ballots


def decrypt(share_path: Path, tally_path: Path, out_path: Path, passphrase: str,
            *, allow_insecure_test_key: bool = False) -> DecryptSummary:
    try:
        share = read_encrypted_share(share_path, passphrase, allow_insecure_test_key=allow_insecure_test_key)
    except InvalidInput as exc:
        raise TallyError(f"share file {share_path}: {exc}") from None
    key = share.election_key
    try:
        election_id, contests = parse_tally(read_json(tally_path, "tally file"), key)
    except InvalidInput as exc:
        raise TallyError(f"tally file {tally_path} is not a well-formed tally for this election key: {exc}") from None
    shares = {}
    for contest_id in sorted(contests):
        ciphertexts, _ = contests[contest_id]
        result = compute_decryption_share(share, election_id, contest_id, ciphertexts)
        verify_decryption_share(key, election_id, contest_id, ciphertexts, result)  # self-check
        shares[contest_id] = result
    atomic_write_json(out_path, share_file_dict(share.trustee, share.index, shares))
    return DecryptSummary(share.trustee, share.index, election_id, {c: v[1] for c, v in contests.items()})
