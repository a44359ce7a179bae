-- 12315 complaints and reports, one row per record (a record delivered again with new content: the latest version wins).
with ranked as (
    select *, row_number() over (partition by complaint_id order by period desc, source_row_number desc) as recency
    from {{ ref('stg_samr__complaints_12315') }}
)

select * except (recency, source_row_number, delivery_id)
from ranked
where recency = 1
