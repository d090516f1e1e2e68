"""Administration: elections (manifest, overview), the roll import, the key ceremony, officials,
four-eyes approvals, poll actions and the hash-chained audit log."""
