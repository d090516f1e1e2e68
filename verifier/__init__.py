"""Independent public verifier of an SSB Vote election record.

Written from docs/protocol.md and docs/record.md alone: this package imports nothing from
``app``, ``crypto`` or ``tally`` (enforced by ``tests/verifier/test_independence.py``), so an
observer who runs ``python -m verifier RECORD_DIR`` trusts neither the server, the tally nor
the authors of the reference implementation.

Public API: :func:`verifier.checks.verify_record` and the CLI in :mod:`verifier.cli`.
"""

__all__ = ["__version__"]
__version__ = "4.0"  # reads records of format version 4 (docs/record.md)
