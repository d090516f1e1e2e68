"""The named, numbered checks of docs/record.md §5 (1–42) (record format version 4).

Each check is a function ``check_NN_name(ctx) -> CheckResult``; :data:`CHECKS` lists them in
the order of the spec and :func:`verify_record` runs them all (a failing check never stops the
later ones; a check that lacks an input another check could not provide fails with
``dependency``).  Findings carry a message code (translated in :mod:`verifier.i18n`), its
parameters and the offending item (file, seq, credential, official, trustee, contest,
candidate).

The checks live by record area: :mod:`verifier.checks.record` (1–2),
:mod:`verifier.checks.election` (3–5), :mod:`verifier.checks.board` (6–8, 20, 21),
:mod:`verifier.checks.ballots` (9), :mod:`verifier.checks.overrides` (10, 22),
:mod:`verifier.checks.tally` (11–13, 23, 28), :mod:`verifier.checks.results` (14–16),
:mod:`verifier.checks.keys` (24–27: the key proofs and derived values),
:mod:`verifier.checks.pins` (17, and the loaders of the pinned objects) and
:mod:`verifier.checks.credentials` (18, 19), :mod:`verifier.checks.audits` (29–31: audited
ballots), :mod:`verifier.checks.observers` (32–35), :mod:`verifier.checks.contests` (37–40: the
election's rules as data, issue 21); what they share is in
:mod:`verifier.checks.context`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from verifier.checks.audits import (AUDIT_TYPE, audit_statement, check_29_audits_open,
                                    check_30_audits_not_counted, check_31_audits_seeds_secret)
from verifier.checks.ballots import check_09_ballots_proofs
from verifier.checks.board import (AUDIT_ENTRY_KEYS, BALLOT_ENTRY_KEYS, CAST_AT_RE,
                                   CHECKPOINT_TYPE, ENTRY_KEYS, KIND_AUDIT, KIND_BALLOT,
                                   PSEUDONYM_RE, check_06_board_chain, check_07_board_ballots,
                                   check_08_board_checkpoints, check_20_board_unique,
                                   check_21_board_times)
from verifier.checks.contests import (check_37_manifest_rules, check_38_credentials_contests,
                                      check_39_results_seats, check_40_tally_contests)
from verifier.checks.context import (HEX64_RE, MAX_FINDINGS, CheckResult, Context, Finding,
                                     Options)
from verifier.checks.credentials import (BALLOT_TYPE, ballot_statement,
                                         check_18_credentials_list,
                                         check_19_board_signatures)
from verifier.checks.decisions import check_41_poll_extensions, check_42_results_lots
from verifier.checks.election import (check_03_manifest_election_id, check_04_key_public,
                                      check_05_key_verification)
from verifier.checks.keys import (check_24_key_modulus_proof, check_25_key_factor_proof,
                                  check_26_key_verification_base, check_27_key_shared_secret,
                                  check_36_key_short_base)
from verifier.checks.overrides import (OVERRIDES_TYPE, check_10_overrides_signature,
                                       check_22_overrides_officials)
from verifier.checks.pins import (CREDENTIALS_TYPE, OPENING_TYPE, REVOCATION_TYPE,
                                  check_17_pins_opening)
from verifier.checks.record import check_01_record_format, check_02_record_hashes
from verifier.checks.results import (PLAINTEXT_LIMIT, check_14_results_combination,
                                     check_15_results_elected, check_16_results_plausible,
                                     expected_elected)
from verifier.checks.tally import (AGGREGATE_CHUNK, REASONS, Dispositions, aggregate_chunk,
                                   check_11_tally_counted_set, check_12_tally_aggregate,
                                   check_13_tally_decryption_shares, check_23_tally_turnout,
                                   check_28_tally_share_signatures)
from verifier.checks.observers import (check_32_board_seen, check_33_witnesses_statements,
                                       check_34_pins_witnesses, check_35_board_turnout)
from verifier.record import load_record

__all__ = [
    "AGGREGATE_CHUNK", "AUDIT_ENTRY_KEYS", "AUDIT_TYPE", "BALLOT_ENTRY_KEYS", "BALLOT_TYPE", "CAST_AT_RE", "CHECKPOINT_TYPE", "CHECKS",
    "CREDENTIALS_TYPE", "CheckResult", "Context", "Dispositions", "ENTRY_KEYS", "Finding",
    "HEX64_RE", "KIND_AUDIT", "KIND_BALLOT", "MAX_FINDINGS", "OPENING_TYPE", "OVERRIDES_TYPE", "Options", "PLAINTEXT_LIMIT",
    "PSEUDONYM_RE", "REASONS", "REVOCATION_TYPE", "Verification", "aggregate_chunk",
    "audit_statement", "ballot_statement", "check_01_record_format", "check_02_record_hashes",
    "check_03_manifest_election_id", "check_04_key_public", "check_05_key_verification",
    "check_06_board_chain", "check_07_board_ballots", "check_08_board_checkpoints",
    "check_09_ballots_proofs", "check_10_overrides_signature", "check_11_tally_counted_set",
    "check_12_tally_aggregate", "check_13_tally_decryption_shares",
    "check_14_results_combination", "check_15_results_elected", "check_16_results_plausible",
    "check_17_pins_opening", "check_18_credentials_list", "check_19_board_signatures",
    "check_20_board_unique", "check_21_board_times", "check_22_overrides_officials",
    "check_23_tally_turnout", "check_24_key_modulus_proof", "check_25_key_factor_proof",
    "check_26_key_verification_base", "check_27_key_shared_secret",
    "check_28_tally_share_signatures", "check_29_audits_open", "check_30_audits_not_counted",
    "check_31_audits_seeds_secret", "check_32_board_seen", "check_33_witnesses_statements",
    "check_34_pins_witnesses", "check_35_board_turnout", "check_36_key_short_base",
    "check_37_manifest_rules", "check_38_credentials_contests", "check_39_results_seats",
    "check_40_tally_contests",
    "check_41_poll_extensions", "check_42_results_lots",
    "SNAPSHOT_CHECKS", "expected_elected", "verify_record", "verify_snapshot",
]

CHECKS: tuple[Callable[[Context], CheckResult], ...] = (
    check_01_record_format, check_02_record_hashes, check_03_manifest_election_id,
    check_04_key_public, check_05_key_verification, check_06_board_chain,
    check_07_board_ballots, check_08_board_checkpoints, check_09_ballots_proofs,
    check_10_overrides_signature, check_11_tally_counted_set, check_12_tally_aggregate,
    check_13_tally_decryption_shares, check_14_results_combination,
    check_15_results_elected, check_16_results_plausible, check_17_pins_opening,
    check_18_credentials_list, check_19_board_signatures, check_20_board_unique,
    check_21_board_times, check_22_overrides_officials, check_23_tally_turnout,
    check_24_key_modulus_proof, check_25_key_factor_proof, check_26_key_verification_base,
    check_27_key_shared_secret, check_28_tally_share_signatures, check_29_audits_open,
    check_30_audits_not_counted, check_31_audits_seeds_secret, check_32_board_seen,
    check_33_witnesses_statements, check_34_pins_witnesses, check_35_board_turnout,
    check_36_key_short_base,
    # version 4 (issue 21)
    check_37_manifest_rules, check_38_credentials_contests, check_39_results_seats,
    check_40_tally_contests,
    check_41_poll_extensions, check_42_results_lots,
)
#: the checks of a snapshot of an open board (docs/record.md §3.3): those of a closed record
#: that apply to a partial board, by the same code
SNAPSHOT_CHECKS: tuple[Callable[[Context], CheckResult], ...] = (
    check_03_manifest_election_id, check_04_key_public, check_05_key_verification,
    check_06_board_chain, check_07_board_ballots, check_08_board_checkpoints,
    check_09_ballots_proofs, check_17_pins_opening, check_18_credentials_list,
    check_19_board_signatures, check_20_board_unique, check_21_board_times,
    check_24_key_modulus_proof, check_25_key_factor_proof, check_26_key_verification_base,
    check_27_key_shared_secret, check_29_audits_open, check_32_board_seen,
    check_34_pins_witnesses, check_35_board_turnout, check_36_key_short_base,
    check_37_manifest_rules, check_38_credentials_contests,
    check_41_poll_extensions,
)


@dataclass
class Verification:
    record: Path
    election_id: str | None
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results)


def verify_record(path: str | Path, options: Options | None = None) -> Verification:
    """Run the checks of docs/record.md §5 on the record at ``path``.  Raises RecordUnreadable (exit 2)."""
    options = options or Options()
    ctx = Context(load_record(path, processes=options.processes), options)
    results = _run(ctx, CHECKS)  # first: the checks find the election id
    return Verification(Path(path), ctx.election_id, results)


def verify_snapshot(path: str | Path, options: Options | None = None) -> Verification:
    """Run the snapshot checks (docs/record.md §3.3) on the snapshot folder at ``path``.
    Raises RecordUnreadable (exit 2)."""
    options = options or Options()
    options.snapshot = True
    ctx = Context(load_record(path, processes=options.processes, snapshot=True), options)
    results = _run(ctx, SNAPSHOT_CHECKS)
    return Verification(Path(path), ctx.election_id, results)


def _run(ctx: Context, checks: tuple[Callable[[Context], CheckResult], ...]) -> list[CheckResult]:
    results = []
    for check in checks:
        try:
            results.append(check(ctx))
        except Exception as exc:  # a verifier bug or an unforeseen shape: fail, never pass
            res = CheckResult(int(check.__name__[6:8]), check.__name__[9:].replace("_", ".", 1))
            res.fail("internal_error", error=f"{type(exc).__name__}: {exc}")
            results.append(res)
    return results
