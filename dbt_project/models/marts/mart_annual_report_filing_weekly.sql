-- Annual-report filing rate (年报报送率) by division and week of the filing season: the cumulative share of the
-- enterprises that owe the report which had filed it by the end of each week (weeks 1-26 from 1 January).
-- A step up after a week of point-to-point reminders shows their effect.
with due as (
    select * from {{ ref('int_annual_report_due') }}
),

weeks as (
    select explode(sequence(1, 26)) as week
)

select
    due.report_year,
    weeks.week,
    date_add(make_date(due.report_year + 1, 1, 1), 7 * weeks.week - 1) as week_end,
    due.district_code,
    divisions.district_name,
    count(*) as enterprises_due,
    sum(case when due.filed_on <= date_add(make_date(due.report_year + 1, 1, 1), 7 * weeks.week - 1) then 1 else 0 end)
        as filed,
    round(sum(case when due.filed_on <= date_add(make_date(due.report_year + 1, 1, 1), 7 * weeks.week - 1) then 1 else 0 end)
          / count(*), 6) as filing_rate
from due
cross join weeks
left join {{ ref('stg_reference__divisions') }} as divisions on divisions.district_code = due.district_code
where date_add(make_date(due.report_year + 1, 1, 1), 7 * weeks.week - 1) <= due.as_of
group by due.report_year, weeks.week, due.district_code, divisions.district_name
