-- Recomputes every sealed day's digest from the raw tables the loader wrote and returns the days
-- whose rows no longer hash to the recorded digest: edits, deletions or insertions made in the
-- warehouse behind the loader's back (Annex 3.2.5: protect logs from unauthorised change).
-- The same comparison as the verification run (run-operation verify_logs, job nis2-verify-logs,
-- which also records its findings); the rows staging rejected were never sealed and are left out.
{{ config(severity='error', tags=['log_integrity_verification']) }}

with compared as (
    {{ log_digest_comparison() }}
)

select
    partition_id,
    sealed_row_count,
    raw_row_count,
    sealed_digest,
    raw_digest
from compared
where raw_digest is distinct from sealed_digest
