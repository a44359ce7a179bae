-- Time-limit compliance of administrative actions (数据铁笼 · 行政效能): one row per month, acting unit and kind of
-- action. An action counts in the month it was done (joint-discipline restrictions: the month the case was
-- shared); one still undone past its limit (逾期未办) counts, as overdue, in the month its time ran out, and one
-- still within its limit (办理中) is not judged yet. compliance_rate = share not overdue (an extension within the
-- law's extra days counts as compliant, but is shown apart); median_days in the unit of the limit (working or
-- calendar days; an undone action's days run to the lake's horizon).
with actions as (
    select * from {{ ref('mart_administrative_actions') }}
    where status <> '办理中'
)

select
    sha2(concat_ws('|', month, unit, action_type), 256) as timeliness_id,
    month,
    unit as acting_unit,
    max(district_code) as district_code,
    action_type,
    max(action_type_zh) as action_type_zh,
    concat(
        case when action_type = 'discipline' then '按惩戒措施清单期限'
             else concat(cast(max(limit_days) as string),
                         case when max(limit_unit) = 'working_days' then '个工作日' else '日' end) end,
        case when max(extension_days) > 0
             then concat('（经批准可延长', cast(max(extension_days) as string),
                         case when max(limit_unit) = 'working_days' then '个工作日' else '日' end, '）')
             else '' end
    ) as time_limit,
    concat_ws('；', array_sort(collect_set(basis))) as basis,
    count(*) as actions,
    sum(case when status = '按期' then 1 else 0 end) as within_limit,
    sum(case when status = '延期内' then 1 else 0 end) as within_extension,
    sum(case when status in ('逾期', '逾期未办') then 1 else 0 end) as overdue,
    sum(case when status = '逾期未办' then 1 else 0 end) as overdue_undone,
    cast(sum(case when status in ('按期', '延期内') then 1 else 0 end) as double) / count(*) as compliance_rate,
    percentile(elapsed_days, 0.5) as median_days,
    case when max(limit_unit) = 'working_days' then '工作日' else '日' end as day_unit
from actions
where unit is not null
group by month, unit, action_type
