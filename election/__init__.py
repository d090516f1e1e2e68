"""The producer side of the election record: docs/record.md and docs/manifest.md, written once.

No Flask and no database: plain values in, plain values (and files) out.  The web app, the tally,
the test board builder and the benchmarks all produce the record's bytes through this package.

==============  ==========================================================================
module          concept
==============  ==========================================================================
manifest        the manifest: parser, validator, typed view (manifest.md §1–§2)
signed          signed objects: sign / verify with an explicit Ed25519 key (record.md §1)
board           entries, the hash chain, checkpoints, paper overrides, receipts (record.md §2)
receipt         the tracker QR text and the audit code, their parsers (record.md §2.5–§2.6)
counted         the counted-set rule: counted or excluded, and why (record.md §4.1)
export          the board export folder: the one writer and reader (record.md §3)
record          the record's layout, FORMAT.json and HASHES.json (record.md §4)
lifecycle       an election's status (draft → open → closed → tallied) and the poll window
roll            the voter rolls' CSV parser and identifier checks (manifest.md §3)
authority       the CA's objects: opening, mapping, list, revocation (record.md §2.0, §6)
voters          who may sign a ballot: the packed credential list and the revocations (§6)
errors          the exceptions of this package
==============  ==========================================================================

Dependencies point one way: app → tally → election → crypto.  This package imports only
``crypto``, the standard library and ``cryptography``; the verifier imports none of it.
"""
