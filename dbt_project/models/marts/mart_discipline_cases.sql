-- Joint credit discipline (联合奖惩), one row per sanction and department with a duty to restrict: the case is
-- shared with the department on the day of the sanction; the department has `deadline_days` to put the restriction
-- in place. The lake checks each department's grants to the sanctioned enterprise after that day:
--   违规授予（逾期）  granted after the deadline: the restriction was not applied
--   期限内授予（待核查） granted between sharing and deadline: the department may not have known yet
--   限制中            no grant seen: the restriction holds
with sanctions as (
    select * from {{ ref('fct_penalties') }}
),

measures as (
    select * from {{ ref('discipline_measures') }}
),

cases as (
    select
        sanctions.case_id,
        sanctions.enterprise_id,
        sanctions.department as trigger_department,
        sanctions.department_name as trigger_department_name,
        sanctions.sanction,
        sanctions.decided_on as shared_on,
        measures.restricting_department,
        measures.restricting_department_name,
        measures.grant_kind,
        measures.measure,
        measures.basis,
        date_add(sanctions.decided_on, measures.deadline_days) as deadline
    from sanctions
    inner join measures on measures.trigger_department = sanctions.department
),

grants_after as (
    select
        cases.case_id,
        cases.restricting_department,
        min(grants.granted_on) as first_granted_on,
        min_by(grants.grant_id, grants.granted_on) as first_grant_id,
        count(*) as grants_after_sharing
    from cases
    inner join {{ ref('fct_grants') }} as grants
        on grants.enterprise_id = cases.enterprise_id
        and grants.department = cases.restricting_department
        and grants.granted_on >= cases.shared_on
    group by cases.case_id, cases.restricting_department
)

select
    sha2(concat_ws('|', cases.case_id, cases.restricting_department), 256) as discipline_id,
    cases.*,
    coalesce(grants_after.grants_after_sharing, 0) as grants_after_sharing,
    grants_after.first_grant_id,
    grants_after.first_granted_on,
    case
        when grants_after.first_granted_on > cases.deadline then '违规授予（逾期）'
        when grants_after.first_granted_on is not null then '期限内授予（待核查）'
        else '限制中'
    end as status,
    enterprises.enterprise_name,
    enterprises.district_code
from cases
left join grants_after
    on grants_after.case_id = cases.case_id and grants_after.restricting_department = cases.restricting_department
left join {{ ref('int_enterprises_registered') }} as enterprises on enterprises.enterprise_id = cases.enterprise_id
