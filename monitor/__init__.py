"""The monitoring job's alerts: findings of the marts go, once each, to notification channels.

- `sources`: which marts hold findings (finding_sources.toml: data, not code)
- `findings`: reads them from the warehouse and writes the alert text (pseudonyms only)
- `state`: the outbox in the warehouse (schema nis2_ops) that makes each alert go out once
- `deliver`: Apprise, with secrets kept out of every message, log and error
- `cli`: `nis2-monitor run | status | loop | receiver`
"""
