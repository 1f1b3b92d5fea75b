"""One module per chapter of the evidence pack; each reads its marts and returns a `Section`."""
