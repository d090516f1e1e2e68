"""The service layer: everything views and CLIs do to the database goes through here.

Grouped by domain; each sub-package is a set of flat modules named after their concept:

* :mod:`app.services.voting` — admission of casts, casting, proof verification, the bulletin
  board and its export, the cast-as-intended check, paper votes, published results;
* :mod:`app.services.identity` — voter accounts, passwords, TOTP, sign-in, principals,
  identifiers and throttling;
* :mod:`app.services.administration` — elections (manifest, overview), the roll import, the
  key ceremony, officials, four-eyes approvals, poll actions and the audit log;
* :mod:`app.services.platform` — database schema, health check and the server's signing key.

Services raise the domain errors of :mod:`app.services.errors` and know nothing of HTTP;
app/views/errors.py maps each error class to a status and an error code.
"""
