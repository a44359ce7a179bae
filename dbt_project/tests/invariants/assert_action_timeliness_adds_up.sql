-- Every timed action with an acting unit is counted exactly once in mart_action_timeliness, and every row's
-- statuses add up to its actions; every officer's overdue and out-of-pattern counts stay within the actions.
with mart_total as (
    select coalesce(sum(actions), 0) as n from {{ ref('mart_action_timeliness') }}
),

action_total as (
    select count(*) as n from {{ ref('int_administrative_actions') }} where unit is not null
)

select 'total' as what, mart_total.n as got, action_total.n as expected
from mart_total cross join action_total
where mart_total.n <> action_total.n
union all
select concat('row ', timeliness_id), within_limit + within_extension + overdue, actions
from {{ ref('mart_action_timeliness') }}
where within_limit + within_extension + overdue <> actions
union all
select concat('officer ', officer_code), overdue + out_of_pattern_approvals, actions
from {{ ref('mart_officer_integrity') }}
where overdue > actions or out_of_pattern_approvals > registrations_approved
