-- One row per day (2000-2035): is it a working day (weekends off; the State Council's holidays off and make-up
-- days on, from the seed cn_working_calendar) and the running number of working days, so that the working days
-- after a start day up to an end day are `end.working_day_number - start.working_day_number`.
with days as (
    select explode(sequence(to_date('2000-01-01'), to_date('2035-12-31'), interval 1 day)) as day
),

marked as (
    select
        days.day,
        case
            when adjustments.kind = 'holiday' then false
            when adjustments.kind = 'makeup_workday' then true
            else dayofweek(days.day) not in (1, 7)
        end as is_working_day
    from days
    left join {{ ref('cn_working_calendar') }} as adjustments on adjustments.day = days.day
)

select
    day,
    is_working_day,
    sum(case when is_working_day then 1 else 0 end) over (order by day rows between unbounded preceding and current row)
        as working_day_number,
    -- The day itself if it is a working day, else the next one (a calendar limit ending on a holiday ends there).
    min(case when is_working_day then day end) over (order by day rows between current row and unbounded following)
        as next_working_day
from marked
