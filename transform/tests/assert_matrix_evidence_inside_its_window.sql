-- Annex 2.2.2 evidence must be traceable: no matrix row shows evidence dated after its own
-- window or in the future, and its window ends no later than as_of.
select
    matrix_id,
    evidence_window_start,
    evidence_window_end,
    last_evidence_at
from {{ ref('mart_nis2_control_evidence_matrix') }}
where last_evidence_at > evidence_window_end
    or evidence_window_end > {{ as_of() }}
    or evidence_window_start >= evidence_window_end
