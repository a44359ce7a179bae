-- Licence decisions, one row per record (a record delivered again with new content: the latest version wins).
with ranked as (
    select *, row_number() over (partition by licence_no, action, decided_on order by period desc, source_row_number desc) as recency
    from {{ ref('stg_samr__licences') }}
)

select * except (recency, source_row_number, delivery_id)
from ranked
where recency = 1
