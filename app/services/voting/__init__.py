"""Voting: admission of casts, casting, proof verification, the bulletin board and its export,
the cast-as-intended check, paper votes and published results."""
