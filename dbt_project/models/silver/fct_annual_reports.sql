-- Annual reports per enterprise and report year (the latest delivered version of each).
with ranked as (
    select *, row_number() over (partition by enterprise_id, report_year order by period desc, source_row_number desc) as recency
    from {{ ref('stg_samr__annual_reports') }}
)

select enterprise_id, report_year, filed_on, is_filed_on_time, business_status, employees, insured_headcount, email
from ranked
where recency = 1
