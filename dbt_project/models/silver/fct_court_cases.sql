-- Court cases in which the enterprise is a party (one row per case and role).
with ranked as (
    select *, row_number() over (partition by case_no, enterprise_id, role order by period desc, source_row_number desc) as recency
    from {{ ref('stg_court__judgments') }}
)

select case_no, enterprise_id, court_name, case_type, cause, role, filed_on, judged_on, document_type, outcome, amount_cny
from ranked
where recency = 1
