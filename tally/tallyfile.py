"""The encrypted tally file (docs/record.md §4.2) and trustee share files (§4.3), parsed strictly."""
from __future__ import annotations

import re
from typing import Any

from crypto.encoding import hex_to_int, require_int, require_list, require_object, require_str
from crypto.errors import InvalidInput
from crypto.paillier import validate_ciphertext
from crypto.threshold import MAX_TALLY_LENGTH, DecryptionShare, ElectionPublicKey
from election.record import DECRYPTION_SHARES_KEYS, share_file_problems

_ID_RE = re.compile(r"\A[0-9a-f]{64}\Z")


def parse_tally(obj: Any, key: ElectionPublicKey) -> tuple[str, dict[str, tuple[list[int], int]]]:
    """(election id, contest → (ciphertexts, counted ballots)); InvalidInput if malformed."""
    data = require_object(obj, {"election_id", "contests"}, "tally file")
    election_id = data["election_id"]
    if not isinstance(election_id, str) or not _ID_RE.match(election_id):
        raise InvalidInput("tally file: election_id is not a SHA-256 hex digest")
    contests = data["contests"]
    if not isinstance(contests, dict) or not contests:
        raise InvalidInput("tally file: contests must be a non-empty object")
    pk = key.public_key
    out: dict[str, tuple[list[int], int]] = {}
    for contest_id, raw in contests.items():
        what = f"tally file contest {contest_id!r}"
        item = require_object(raw, {"ciphertexts", "counted_ballots"}, what)
        cts = require_list(item["ciphertexts"], f"{what} ciphertexts", max_length=MAX_TALLY_LENGTH)
        if not cts:
            raise InvalidInput(f"{what}: no ciphertexts")
        values = [
            int(validate_ciphertext(pk, hex_to_int(c, f"{what} ciphertext {i}", lower=1, upper=int(pk.n_square)),
                                    f"{what} ciphertext {i}"))
            for i, c in enumerate(cts)
        ]
        counted = require_int(item["counted_ballots"], f"{what} counted_ballots", lower=0, upper=2**62)
        out[contest_id] = (values, counted)
    return election_id, out


def tally_dict(election_id: str, contests: dict[str, tuple[list[int], int]]) -> dict[str, Any]:
    """The encrypted tally object (§4.2) of contest → (ciphertexts, counted ballots)."""
    return {"election_id": election_id,
            "contests": {c: {"ciphertexts": [format(int(x), "x") for x in v[0]], "counted_ballots": v[1]}
                         for c, v in contests.items()}}


def parse_share_file(obj: Any, key: ElectionPublicKey, contest_ids: list[str], *, election_id: str,
                     tally_hash: str) -> tuple[int, str, dict[str, DecryptionShare]]:
    """(index, trustee name, contest → DecryptionShare) of a signed §4.3 file; InvalidInput if
    malformed, or not signed by the trustee it names for this election and tally."""
    if isinstance(obj, dict) and "signature" not in obj:
        raise InvalidInput("decryption share file: not signed by its trustee (no signature; docs/record.md §4.3)")
    data = require_object(obj, set(DECRYPTION_SHARES_KEYS), "decryption share file")
    index = require_int(data["index"], "decryption share file index", lower=1, upper=len(key.trustees) + 1)
    name = require_str(data["trustee"], "decryption share file trustee")
    if key.trustees[index - 1].trustee != name:
        raise InvalidInput(f"decryption share file: trustee {name!r} is not trustee {index} of the election key")
    problems = share_file_problems(data, election_id=election_id, tally_hash=tally_hash,
                                   signing_key=key.trustees[index - 1].signing_key)
    if problems:
        raise InvalidInput("decryption share file: " + "; ".join(problems))
    contests = data["contests"]
    if not isinstance(contests, dict) or sorted(contests) != sorted(contest_ids):
        raise InvalidInput(f"decryption share file: expected shares for the contests {sorted(contest_ids)}")
    shares = {}
    for contest_id in sorted(contests):
        share = DecryptionShare.from_dict(contests[contest_id], key)
        if share.index != index:
            raise InvalidInput(f"decryption share file: contest {contest_id!r} share has index {share.index}, not {index}")
        shares[contest_id] = share
    return index, name, shares
