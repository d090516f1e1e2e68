"""SSB Vote cryptography: Paillier ballots, zero-knowledge proofs, threshold decryption.

The protocol implemented here is specified in ``docs/protocol.md``; every public function
cites the section it implements.
"""
