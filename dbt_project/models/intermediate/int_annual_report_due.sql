-- Enterprises that owe the annual report of the lake's current report year (the year before the latest month's
-- year: due between 1 January and 30 June, 企业信息公示暂行条例 art. 8), with when they filed it, if at all.
with as_of as (
    select max(month_end) as as_of, year(max(month_end)) - 1 as report_year from {{ ref('int_months') }}
)

select
    as_of.report_year,
    as_of.as_of,
    make_date(as_of.report_year + 1, 6, 30) as deadline,
    enterprises.enterprise_id,
    enterprises.enterprise_name,
    enterprises.district_code,
    enterprises.industry_code,
    enterprises.contact_phone_pseudonym,
    enterprises.contact_phone_is_valid,
    reports.filed_on
from {{ ref('int_enterprises_registered') }} as enterprises
cross join as_of
left join {{ ref('fct_annual_reports') }} as reports
    on reports.enterprise_id = enterprises.enterprise_id and reports.report_year = as_of.report_year
    and reports.filed_on is not null
where enterprises.established_on <= make_date(as_of.report_year, 12, 31)
  and (enterprises.deregistered_on is null or enterprises.deregistered_on > as_of.as_of)
