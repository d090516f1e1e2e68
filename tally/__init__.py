"""SSB Vote tally: closed board export → counted set → encrypted tally → trustees → record.

A separate process and CLI (``python -m tally``; also ``ssbvote tally``); it never imports
``app``.  The formats are docs/record.md §3–§4; the cryptography is ``crypto`` (docs/protocol.md).
"""
