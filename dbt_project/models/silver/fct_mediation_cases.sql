-- 12315 consumer-dispute mediations, one row per record (a record delivered again with new content: the latest version wins).
with ranked as (
    select *, row_number() over (partition by case_id order by period desc, source_row_number desc) as recency
    from {{ ref('stg_samr__mediation_cases') }}
)

select * except (recency, source_row_number, delivery_id)
from ranked
where recency = 1
