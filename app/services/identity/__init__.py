"""Identity: voter accounts, passwords, TOTP, sign-in, principals, identifiers and throttling."""
