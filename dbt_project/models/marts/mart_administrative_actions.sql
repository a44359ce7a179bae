-- The data iron cage (数据铁笼): one row per administrative action with a legal time limit, who acted and how long
-- it took. Limits come from the seed action_time_limits (docs/iron_cage.md cites each article); the start day is
-- not counted (Civil Code art. 201); working days skip weekends and the State Council's holidays; a calendar-day
-- limit ending on a holiday ends on the next working day (art. 203). Joint-discipline restrictions come from
-- mart_discipline_cases with their own deadline.
-- An action not done yet is judged at the lake's horizon (the last day of its latest month): 逾期未办 once the limit
-- (and any lawful extension) has passed, else 办理中. Only a penalty's publication can be seen undone: a delivery
-- that reports publication days for some decisions says the decisions it leaves without one are not yet published
-- (a layout without the column says nothing, and is not judged).
with limits as (
    select * from {{ ref('action_time_limits') }}
),

calendar as (
    select * from {{ ref('int_working_calendar') }}
),

horizon as (
    select max(month_end) as as_of from {{ ref('int_months') }}
),

enterprises as (
    select * from {{ ref('int_enterprises_registered') }}
),

registration_events as (
    select
        *,
        row_number() over (
            partition by enterprise_id, event_type, event_date order by period desc, source_row_number desc
        ) as recency
    from {{ ref('stg_samr__registrations') }}
    where applied_on is not null
),

registrations as (
    select
        concat_ws('|', 'registration', enterprise_id, event_type, cast(event_date as string)) as action_id,
        'registration' as action_type,
        event_type as action_detail,
        enterprise_id,
        registration_authority as unit,
        district_code,
        approving_officer_pseudonym as officer_pseudonym,
        applied_on as started_on,
        event_date as done_on
    from registration_events
    where recency = 1
),

penalties as (
    select * except (recency)
    from (
        select
            *,
            row_number() over (partition by decision_no order by period desc, source_row_number desc) as recency,
            max(published_on) over (partition by delivery_id) is not null as publication_reported
        from {{ ref('stg_samr__penalties') }}
    )
    where recency = 1
),

penalty_actions as (
    select concat_ws('|', 'penalty_decision', decision_no), 'penalty_decision', penalty_type, enterprise_id,
           deciding_authority, district_code, case_officer_pseudonym, case_filed_on, decided_on
    from penalties where case_filed_on is not null
    union all
    select concat_ws('|', 'penalty_publicity', decision_no), 'penalty_publicity', penalty_type, enterprise_id,
           deciding_authority, district_code, case_officer_pseudonym, decided_on, published_on
    from penalties where published_on is not null or publication_reported
),

listing_actions as (
    select
        concat_ws('|', case when listings.action = '列入' then 'abnormal_listing' else 'abnormal_removal' end,
                  listings.decision_no),
        case when listings.action = '列入' then 'abnormal_listing' else 'abnormal_removal' end,
        listings.reason,
        listings.enterprise_id,
        listings.authority,
        enterprises.district_code,
        listings.case_officer_pseudonym,
        case when listings.action = '列入' then listings.grounds_on else listings.removal_applied_on end,
        listings.action_date
    from {{ ref('fct_abnormal_listings') }} as listings
    left join enterprises on enterprises.enterprise_id = listings.enterprise_id
    where (listings.action = '列入' and listings.grounds_on is not null)
        or (listings.action = '移出' and listings.removal_applied_on is not null)
),

timed as (
    select * from registrations
    union all select * from penalty_actions
    union all select * from listing_actions
),

measured as (
    select
        timed.*,
        limits.action_type_zh,
        limits.limit_days,
        limits.limit_unit,
        limits.extension_days,
        limits.basis,
        -- Up to the horizon for an action not done yet.
        case when limits.limit_unit = 'working_days'
            then greatest(done.working_day_number - started.working_day_number, 0)
            else greatest(datediff(done.day, timed.started_on), 0)
        end as elapsed_days,
        started.working_day_number as started_number,
        horizon.as_of
    from timed
    cross join horizon
    inner join limits on limits.action_type = timed.action_type
    inner join calendar as started on started.day = timed.started_on
    inner join calendar as done on done.day = coalesce(timed.done_on, horizon.as_of)
    where timed.started_on <= horizon.as_of
),

with_deadlines as (
    select
        measured.*,
        case when measured.limit_unit = 'working_days' then by_number.day else by_date.next_working_day end as deadline,
        case when measured.limit_unit = 'working_days' then extended_by_number.day else extended_by_date.next_working_day
        end as extended_deadline
    from measured
    left join calendar as by_number
        on by_number.working_day_number = measured.started_number + measured.limit_days and by_number.is_working_day
    left join calendar as extended_by_number
        on extended_by_number.working_day_number = measured.started_number + measured.limit_days + measured.extension_days
        and extended_by_number.is_working_day
    left join calendar as by_date on by_date.day = date_add(measured.started_on, measured.limit_days)
    left join calendar as extended_by_date
        on extended_by_date.day = date_add(measured.started_on, measured.limit_days + measured.extension_days)
),

discipline as (
    select
        concat_ws('|', 'discipline', discipline_id) as action_id,
        'discipline' as action_type,
        measure as action_detail,
        enterprise_id,
        restricting_department_name as unit,
        cast(null as string) as district_code,
        cast(null as string) as officer_pseudonym,
        shared_on as started_on,
        coalesce(first_granted_on, deadline) as done_on,
        '联合惩戒限制落实' as action_type_zh,
        datediff(deadline, shared_on) as limit_days,
        'calendar_days' as limit_unit,
        0 as extension_days,
        basis,
        cast(null as int) as elapsed_days,
        deadline,
        deadline as extended_deadline,
        case when status = '违规授予（逾期）' then '逾期' else '按期' end as status
    from {{ ref('mart_discipline_cases') }}
)

select
    action_id, action_type, action_detail, enterprise_id, unit, district_code, officer_pseudonym, started_on, done_on,
    action_type_zh, limit_days, limit_unit, extension_days, basis, elapsed_days, deadline, extended_deadline,
    case
        when done_on is null and as_of > greatest(deadline, extended_deadline) then '逾期未办'
        when done_on is null then '办理中'
        when done_on <= deadline then '按期'
        when extension_days > 0 and done_on <= extended_deadline then '延期内'
        else '逾期'
    end as status,
    -- Done: the month it was done. Not done: the month its time ran out, or the horizon's month while it runs.
    date_format(
        case when done_on is not null then done_on
             when as_of > greatest(deadline, extended_deadline) then date_add(greatest(deadline, extended_deadline), 1)
             else as_of end,
        'yyyy-MM') as month
from with_deadlines
union all
select
    action_id, action_type, action_detail, enterprise_id, unit, district_code, officer_pseudonym, started_on, done_on,
    action_type_zh, limit_days, limit_unit, extension_days, basis, elapsed_days, deadline, extended_deadline, status,
    date_format(started_on, 'yyyy-MM') as month
from discipline
