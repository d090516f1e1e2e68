"""Checks 24–27 (docs/record.md §5; docs/protocol.md §6.2): the dealer's proofs that n is well
formed (Π^mod protocol.md §6.8, Π^fac protocol.md §6.9), the verification base derived from the key id (protocol.md §6.6) and the
shared-secret equations (protocol.md §6.7).  With checks 4 and 5 they make a count in a passing record the
sum of the counted ballots whatever the dealer did (protocol.md §6.10).

Each needs the key's shape and n: if check 4 (``key.public``) or 5 (``key.verification``)
failed, it fails too, naming that check (``key.requires``)."""
from __future__ import annotations

from typing import Any, Callable

from verifier import arith, keyproofs
from verifier.checks.context import CheckResult, Context
from verifier.errors import InvalidInput
from verifier.proofs import InvalidProof
from verifier.record import ELECTION_KEY
from verifier.shortbase import short_base
from verifier.threshold import ElectionKey, shared_secret_problems


def _key(res: CheckResult, ctx: Context) -> ElectionKey | None:
    """The election key if checks 4 and 5 passed; else fail ``res`` naming them."""
    ok = True
    for number, name, passed in ((4, "key.public", ctx.key_public_ok),
                                 (5, "key.verification", ctx.key_verification_ok)):
        if not passed:
            res.fail("key.requires", {"file": ELECTION_KEY}, number=number, check=name)
            ok = False
    return ctx.key if ok else None


def _derived(ctx: Context, key: ElectionKey) -> tuple[str, Any]:
    """(K, κ) of the key (§6.1 step 4, protocol.md §6.6), computed once."""
    if "key_id" not in ctx.loaded:
        kid = key.key_id
        ctx.loaded["key_id"] = kid, keyproofs.verification_class(key.n, kid)
    found: tuple[str, Any] = ctx.loaded["key_id"]
    return found


def _proof_check(res: CheckResult, ctx: Context, which: str, raw: Any,
                 parse: Callable[[Any], Any], verify: Callable[[int, str, Any], None]) -> bool:
    """Parse and verify one of the dealer's proofs of n (``which``: "modulus" or "factors"),
    failing ``res`` with ``key.proof_shape`` or ``key.proof_invalid``; True if it verifies."""
    item = {"file": ELECTION_KEY, "proof": which}
    assert ctx.key is not None
    try:
        proof = parse(raw)
        kid, _ = _derived(ctx, ctx.key)
        verify(ctx.key.n, kid, proof)
    except InvalidProof as exc:
        res.fail("key.proof_invalid", item, reason=str(exc))
    except InvalidInput as exc:
        res.fail("key.proof_shape", item, error=str(exc))
    else:
        return True
    return False


def check_24_key_modulus_proof(ctx: Context) -> CheckResult:
    res = CheckResult(24, "key.modulus_proof")
    key = _key(res, ctx)
    if key is not None:
        _proof_check(res, ctx, "modulus", key.modulus_proof, keyproofs.parse_modulus_proof,
                     keyproofs.verify_modulus_proof)
    return res


def check_25_key_factor_proof(ctx: Context) -> CheckResult:
    res = CheckResult(25, "key.factor_proof")
    key = _key(res, ctx)
    if key is not None and _proof_check(res, ctx, "factors", key.factor_proof,
                                        keyproofs.parse_factor_proof, keyproofs.verify_factor_proof):
        res.note("key.factor_bound", bound=keyproofs.factor_bound_bits(key.n.bit_length()))
    return res


def check_26_key_verification_base(ctx: Context) -> CheckResult:
    res = CheckResult(26, "key.verification_base")
    key = _key(res, ctx)
    if key is None:
        return res
    kid, _ = _derived(ctx, key)
    item = {"file": ELECTION_KEY}
    if key.verification_base != keyproofs.verification_base(key.n, kid):
        res.fail("key.base_not_derived", item)
    for label, value, extra in [("verification_base", key.verification_base, {}),
                                *((f"verification_key {tr.index}", tr.verification_key,
                                   {"trustee": tr.index}) for tr in key.trustees)]:
        if keyproofs.has_small_order(value, key.n):
            res.fail("key.small_order", {**item, **extra}, what=label)
    res.note("key.key_id", key_id=kid)
    return res


def check_27_key_shared_secret(ctx: Context) -> CheckResult:
    res = CheckResult(27, "key.shared_secret")
    key = _key(res, ctx)
    if key is None:
        return res
    _, kappa = _derived(ctx, key)
    for code, params in shared_secret_problems(key, kappa):
        item: dict[str, Any] = {"file": ELECTION_KEY}
        if "index" in params:
            item["trustee"] = params["index"]
        res.fail(code, item, **params)
    return res


def check_36_key_short_base(ctx: Context) -> CheckResult:
    """The ballots' short base h_s, derived from n (protocol.md §5.0), is usable: 1 < h_s < n²,
    a unit mod n, no order below 2^16.  Not in the record: derived, as checks 9, 29, 31 use it."""
    res = CheckResult(36, "key.short_base")
    key = _key(res, ctx)
    if key is None:
        return res
    n = int(key.n)
    h_s = short_base(n)
    item = {"file": ELECTION_KEY}
    if not 1 < h_s < n * n or arith.gcd(h_s, n) != 1:
        res.fail("key.short_base_degenerate", item)
    elif keyproofs.has_small_order(h_s, n):
        res.fail("key.small_order", item, what="short_base")
    return res
