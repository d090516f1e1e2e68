"""The credential authority's offline tool (docs/record.md §6, docs/protocol.md §13).

Run by a body independent of the voting server's operator (the Election Commission) on its
own machine with its own Ed25519 key, ``python -m ca``:

==============  ==========================================================================
module          what it does
==============  ==========================================================================
keys            the CA key: generate (PEM, 0600), load, public hex, fingerprint
issue           one credential per voter of the rolls: letters, mapping, signed list (§6.1–6.2)
letters         the bilingual printable letter with its QR code, the mail-merge CSV
revoke          revocation and reissue of one voter's credential (§6.3)
pin             the opening object that pins the election's keys (record.md §2.0)
erase           overwrite and delete the private credentials after delivery
cli             the click command line
==============  ==========================================================================

Dependencies: ``crypto`` (credentials, canonical JSON), ``election`` (manifest, roll parser,
signed objects, the CA objects' shapes in ``election.authority``), ``cryptography``, ``click``
and ``qrcode``.  It never imports ``app`` or ``tools``: the CA does not run the server.
"""
