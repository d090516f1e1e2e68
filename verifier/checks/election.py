"""Checks 3–5 (docs/record.md §5): the manifest and the election id, the election key
(``key.public``) and its trustees (``key.verification``) — docs/protocol.md §6.2.  The key's
proofs and derived values are checks 24–27 (:mod:`verifier.checks.keys`)."""
from __future__ import annotations

from typing import Any, Iterable

from verifier import arith, keyproofs
from verifier.checks.context import CheckResult, Context, missing, record_json
from verifier.checks.pins import credential_list
from verifier.encoding import canonical_json
from verifier.errors import InvalidInput
from verifier.hashing import sha256_hex
from verifier.manifest import parse_contests
from verifier.record import (CHECKPOINTS, CREDENTIALS, ELECTION_KEY, ENCRYPTED_TALLY, ENTRIES,
                             MANIFEST, OPENING, OVERRIDES, RESULTS, REVOCATIONS)
from verifier.threshold import (MAX_BITS, MIN_BITS, TEST_MIN_BITS, key_problems,
                                parse_election_key)


def _election_ids(ctx: Context) -> Iterable[tuple[dict[str, Any], Any]]:
    """(item, election_id) of every object of the record that carries one."""
    rec = ctx.record
    for rel in (ENTRIES, CHECKPOINTS, REVOCATIONS):
        for line in rec.jsonl(rel):  # entries.jsonl is streamed
            if isinstance(line.value, dict):
                item = {"file": rel, "line": line.number}
                if rel == ENTRIES:
                    item["seq"] = line.value.get("seq")
                yield item, line.value.get("election_id")
    for rel in (OPENING, OVERRIDES, ENCRYPTED_TALLY, RESULTS):
        obj = rec.json.get(rel)
        if isinstance(obj, dict):
            yield {"file": rel}, obj.get("election_id")
    lst = credential_list(ctx)  # streamed: its small fields are kept
    if lst is not None:
        yield {"file": CREDENTIALS}, lst.fields.get("election_id")


def check_03_manifest_election_id(ctx: Context) -> CheckResult:
    res = CheckResult(3, "manifest.election_id")
    raw = ctx.record.files.get(MANIFEST)
    if raw is None:
        res.fail("dependency", input=MANIFEST)
        return res
    manifest = ctx.record.json[MANIFEST]
    ctx.election_id = sha256_hex(raw)
    res.note("manifest.election_id", election_id=ctx.election_id)
    if canonical_json(manifest) != raw:
        res.fail("manifest.not_canonical", {"file": MANIFEST})
    try:
        ctx.contests = parse_contests(manifest)
    except InvalidInput as exc:
        res.fail("manifest.shape", {"file": MANIFEST}, error=str(exc))
    for item, eid in _election_ids(ctx):
        if eid != ctx.election_id:
            res.fail("manifest.election_id_mismatch", item, found=str(eid))
    return res


# --- 4–5: keys --------------------------------------------------------------------------------

def check_04_key_public(ctx: Context) -> CheckResult:
    """§6.2 ``key.public``: the protocol.md §9.2 shape, n odd, the size policy (protocol.md §8), not prime, not a
    perfect power, no prime factor below 2^16, Pollard's p − 1 (bound 2^20) finds nothing."""
    res = CheckResult(4, "key.public")
    ctx.key_public_ok = False
    obj = record_json(ctx, ELECTION_KEY)
    if obj is None:
        res.fail("dependency", input=ELECTION_KEY)
        return res
    try:
        key = parse_election_key(obj)
    except InvalidInput as exc:
        res.fail("key.shape", {"file": ELECTION_KEY}, error=str(exc))
        return res
    n = key.n
    bits = n.bit_length()
    item = {"file": ELECTION_KEY}
    if n % 2 == 0:
        res.fail("key.even", item)
    if bits > MAX_BITS:
        res.fail("key.too_large", item, bits=bits)
        return res  # nothing more is computed on an oversized n
    if bits < MIN_BITS:
        if not ctx.options.allow_test_key or bits < TEST_MIN_BITS:
            res.fail("key.too_small", item, bits=bits)
        else:
            res.note("key.test_key", bits=bits)
    if n > 1 and n % 2 == 1:
        nn = arith.mpz(n)
        if arith.is_prime(nn):
            res.fail("key.prime", item)
        elif arith.is_power(nn):
            res.fail("key.perfect_power", item)
        if arith.gcd(nn, keyproofs.small_primes_product()) != 1:
            res.fail("key.small_factor", item)
        elif res.passed and keyproofs.pollard_p_minus_1(n) != 1:
            res.fail("key.pollard", item)
    res.note("key.bits", bits=bits)
    if n > 1 and n % 2 == 1:
        ctx.key = key
    ctx.key_public_ok = res.passed
    return res


def check_05_key_verification(ctx: Context) -> CheckResult:
    """§6.2 ``key.verification``: thresholds, indices, names, signing keys, units."""
    res = CheckResult(5, "key.verification")
    ctx.key_verification_ok = False
    if missing(res, ("election key", ctx.key)):
        return res
    assert ctx.key is not None
    for code, params in key_problems(ctx.key):
        res.fail(code, {"file": ELECTION_KEY, **({"trustee": params["index"]}
                                                 if "index" in params else {})}, **params)
    res.note("key.trustees", t=ctx.key.threshold, l=len(ctx.key.trustees))
    ctx.key_verification_ok = res.passed
    return res
