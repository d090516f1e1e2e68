"""The service layer: everything views and CLIs do to the database goes through here."""
