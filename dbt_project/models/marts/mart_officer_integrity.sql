-- The integrity record of each officer (执法人员廉政档案), keyed by the officer's pseudonym: actions, overdue
-- actions, and out-of-pattern approvals: founding registrations (设立) the officer approved of enterprises that
-- mart_warnings flags as a suspected shell cluster, counted when the same officer approved at least 3 of them (one
-- or two can fall to any desk by chance; an officer behind a cluster's registrations is a pattern). officer_code
-- is what the serving store shows: a hash of the pseudonym, so it joins no other pseudonymised column.
with actions as (
    select * from {{ ref('mart_administrative_actions') }}
    where officer_pseudonym is not null and status <> '办理中'  -- judged: done, or undone past the limit
),

flagged as (
    select distinct enterprise_id
    from {{ ref('mart_warnings') }}
    where warning_type = 'shell_cluster'
),

flagged_approvals as (
    select actions.officer_pseudonym, actions.enterprise_id, enterprises.address
    from actions
    inner join flagged on flagged.enterprise_id = actions.enterprise_id
    left join {{ ref('int_enterprises_registered') }} as enterprises on enterprises.enterprise_id = actions.enterprise_id
    where actions.action_type = 'registration' and actions.action_detail = '设立'
),

out_of_pattern as (
    select
        officer_pseudonym,
        count(distinct enterprise_id) as out_of_pattern_approvals,
        concat_ws('、', array_sort(collect_set(address))) as addresses
    from flagged_approvals
    group by officer_pseudonym
    having count(distinct enterprise_id) >= 3
),

units as (
    select officer_pseudonym, unit, district_code, count(*) as n
    from actions
    group by officer_pseudonym, unit, district_code
),

main_unit as (
    -- The unit with most of the officer's actions (a tie goes to the greater name, so reruns agree).
    select officer_pseudonym, max_by(unit, struct(n, unit)) as unit, max_by(district_code, struct(n, unit)) as district_code
    from units
    group by officer_pseudonym
),

totals as (
    select
        officer_pseudonym,
        count(*) as actions,
        sum(case when action_type = 'registration' then 1 else 0 end) as registrations_approved,
        sum(case when status in ('逾期', '逾期未办') then 1 else 0 end) as overdue,
        sum(case when status = '逾期未办' then 1 else 0 end) as overdue_undone,
        sum(case when status = '延期内' then 1 else 0 end) as within_extension,
        min(done_on) as first_action_on,
        max(done_on) as last_action_on
    from actions
    group by officer_pseudonym
),

scored as (
    select
        totals.*,
        cast(totals.overdue as double) / totals.actions as overdue_rate,
        coalesce(out_of_pattern.out_of_pattern_approvals, 0) as out_of_pattern_approvals,
        out_of_pattern.addresses
    from totals
    left join out_of_pattern on out_of_pattern.officer_pseudonym = totals.officer_pseudonym
)

select
    scored.officer_pseudonym,
    concat('JG', upper(substr(sha2(scored.officer_pseudonym, 256), 1, 12))) as officer_code,
    main_unit.unit as acting_unit,
    main_unit.district_code,
    scored.actions,
    scored.registrations_approved,
    scored.overdue,
    scored.overdue_undone,
    scored.within_extension,
    scored.overdue_rate,
    scored.out_of_pattern_approvals,
    filter(array(
        case when scored.out_of_pattern_approvals > 0 then concat(
            '核准疑似集中注册空壳企业的设立登记', cast(scored.out_of_pattern_approvals as string), '件（住所：',
            scored.addresses, '）') end,
        case when scored.overdue > 0 then concat(
            '超过法定时限办结', cast(scored.overdue as string), '件（占', cast(round(scored.overdue_rate * 100, 1) as string),
            '%）') end,
        case when scored.overdue_undone > 0 then concat(
            '超过法定时限仍未办结', cast(scored.overdue_undone as string), '件') end
    ), reason -> reason is not null) as reasons,
    case
        when scored.out_of_pattern_approvals > 0 then '重点关注'
        when scored.overdue >= 3 and scored.overdue_rate >= 0.2 then '关注'
        else '正常'
    end as integrity_level,
    scored.first_action_on,
    scored.last_action_on
from scored
left join main_unit on main_unit.officer_pseudonym = scored.officer_pseudonym
