-- Every judged action with an acting unit (all but those still within their limit, 办理中) is counted exactly
-- once in mart_action_timeliness, and every row's statuses add up to its actions, the undone overdue ones among
-- the overdue; every officer's overdue and out-of-pattern counts stay within the actions.
with mart_total as (
    select coalesce(sum(actions), 0) as n from {{ ref('mart_action_timeliness') }}
),

action_total as (
    select count(*) as n from {{ ref('mart_administrative_actions') }} where unit is not null and status <> '办理中'
)

select 'total' as what, mart_total.n as got, action_total.n as expected
from mart_total cross join action_total
where mart_total.n <> action_total.n
union all
select concat('row ', timeliness_id), within_limit + within_extension + overdue, actions
from {{ ref('mart_action_timeliness') }}
where within_limit + within_extension + overdue <> actions or overdue_undone > overdue
union all
select concat('officer ', officer_code), overdue + out_of_pattern_approvals, actions
from {{ ref('mart_officer_integrity') }}
where overdue > actions or overdue_undone > overdue or out_of_pattern_approvals > registrations_approved
