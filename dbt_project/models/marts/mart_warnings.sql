-- Early warnings (风险预警), one row per warning, each with its reason and evidence in Chinese:
--   complaint_surge      an enterprise's complaints in a month far above its industry's seasonal baseline
--   area_complaint_surge a district x industry's complaints in a month far above its own other months
--   shell_cluster        one domicile, phone or legal representative behind many newly registered firms
--   utility_collapse     power use falling below a fifth of the enterprise's previous three months (the onset)
--   multi_department     sanctions from two or more departments within twelve months
--   repeated_disputes    three or more consumer disputes mediated within twelve months
--   licence_missing      in an industry that needs a licence (seed licensed_industries), still without it past
--                        the grace period after establishment
with months as (
    select * from {{ ref('int_months') }}
),

enterprises as (
    select * from {{ ref('int_enterprises_registered') }}
),

complaint_counts as (
    select complaints.enterprise_id, complaints.month, count(*) as complaints
    from {{ ref('fct_complaints') }} as complaints
    group by complaints.enterprise_id, complaints.month
),

industry_rate as (
    -- The industry's enterprises in the same calendar month (the seasonal baseline), and how many of them had a
    -- complaint: each counts once, so one surging firm (or two) hardly moves its industry's baseline.
    select
        enterprise_months.industry_code,
        enterprise_months.month,
        count(complaint_counts.enterprise_id) as complained,
        count(*) as enterprises
    from {{ ref('int_enterprise_months') }} as enterprise_months
    left join complaint_counts
        on complaint_counts.enterprise_id = enterprise_months.enterprise_id
        and complaint_counts.month = enterprise_months.month
    group by enterprise_months.industry_code, enterprise_months.month
),

enterprise_baselines as (
    -- Each enterprise against the rest of its industry that month (leave-one-out: in a small industry a surge
    -- would otherwise raise its own baseline): the share of the other enterprises with a complaint, which under a
    -- Poisson rate as small as these is the rate itself. An industry of one has no baseline and no warning.
    select
        complaint_counts.enterprise_id,
        complaint_counts.month,
        complaint_counts.complaints,
        enterprises.district_code,
        enterprises.industry_code,
        cast(industry_rate.complained - 1 as double) / (industry_rate.enterprises - 1) as rate
    from complaint_counts
    inner join enterprises on enterprises.enterprise_id = complaint_counts.enterprise_id
    inner join industry_rate
        on industry_rate.industry_code = enterprises.industry_code and industry_rate.month = complaint_counts.month
    where industry_rate.enterprises > 1
),

complaint_surges as (
    select
        'complaint_surge' as warning_type,
        '投诉激增' as warning_type_zh,
        enterprise_id,
        district_code,
        industry_code,
        month,
        concat('当月投诉', cast(complaints as string), '件，同行业其他企业当月被投诉比例',
               cast(round(rate * 100, 1) as string), '%') as evidence,
        case when complaints >= 5 then '高' else '中' end as severity
    from enterprise_baselines
    -- At least 2 complaints and 20 times the baseline: under a Poisson baseline of 0.05 a month, two complaints
    -- happen by chance about once in 800 enterprise-months.
    where complaints >= 2 and complaints >= 20 * rate
),

area_counts as (
    select enterprises.district_code, enterprises.industry_code, complaints.month, count(*) as complaints
    from {{ ref('fct_complaints') }} as complaints
    inner join enterprises on enterprises.enterprise_id = complaints.enterprise_id
    group by enterprises.district_code, enterprises.industry_code, complaints.month
),

area_surges as (
    select
        'area_complaint_surge' as warning_type,
        '区域行业投诉激增' as warning_type_zh,
        cast(null as string) as enterprise_id,
        district_code,
        industry_code,
        month,
        concat('当月投诉', cast(complaints as string), '件，其他月份平均', cast(round(baseline, 1) as string), '件') as evidence,
        '中' as severity
    from (
        select
            *,
            (sum(complaints) over (partition by district_code, industry_code) - complaints)
                / greatest(count(*) over (partition by district_code, industry_code) - 1, 1) as baseline,
            count(*) over (partition by district_code, industry_code) as months_seen
        from area_counts
    )
    -- Poisson: more than baseline + 4 standard deviations, and at least 5 complaints.
    where months_seen >= 3 and complaints >= 5 and complaints > baseline + 4 * sqrt(greatest(baseline, 1))
),

shared_keys as (
    select 'address' as key_type, address as key_value, enterprise_id, established_on, district_code, industry_code
    from enterprises where address is not null
    union all
    select 'phone', contact_phone_pseudonym, enterprise_id, established_on, district_code, industry_code
    from enterprises where contact_phone_pseudonym is not null
    union all
    select 'legal_rep', legal_rep_pseudonym, enterprise_id, established_on, district_code, industry_code
    from enterprises where legal_rep_pseudonym is not null
),

clusters as (
    select
        key_type, key_value,
        count(distinct enterprise_id) as firms,
        min(established_on) as first_on,
        max(established_on) as last_on
    from shared_keys
    where established_on >= (select add_months(min(month_start), -12) from months)
    group by key_type, key_value
    having count(distinct enterprise_id) >= 5 and datediff(max(established_on), min(established_on)) <= 90
),

shell_clusters as (
    select
        'shell_cluster' as warning_type,
        '疑似集中注册空壳企业' as warning_type_zh,
        shared_keys.enterprise_id,
        first(shared_keys.district_code) as district_code,
        first(shared_keys.industry_code) as industry_code,
        date_format(max(clusters.last_on), 'yyyy-MM') as month,
        concat_ws('；', collect_set(concat(
            case clusters.key_type when 'address' then '同一住所' when 'phone' then '同一联系电话' else '同一法定代表人' end,
            '在', cast(datediff(clusters.last_on, clusters.first_on) as string), '天内登记',
            cast(clusters.firms as string), '户企业'))) as evidence,
        case when count(*) >= 2 then '高' else '中' end as severity
    from shared_keys
    inner join clusters on clusters.key_type = shared_keys.key_type and clusters.key_value = shared_keys.key_value
    group by shared_keys.enterprise_id
),

power as (
    select
        enterprise_id, month, quantity,
        avg(quantity) over (partition by enterprise_id order by month rows between 3 preceding and 1 preceding) as previous_avg,
        count(*) over (partition by enterprise_id order by month rows between 3 preceding and 1 preceding) as previous_months,
        lag(quantity) over (partition by enterprise_id order by month) as last_month_quantity
    from {{ ref('fct_utility_use') }}
    where utility = 'power'
),

collapses as (
    select
        'utility_collapse' as warning_type,
        '用电量骤降' as warning_type_zh,
        power.enterprise_id,
        enterprises.district_code,
        enterprises.industry_code,
        power.month,
        concat('当月用电', cast(round(power.quantity, 0) as string), '千瓦时，前三个月平均',
               cast(round(power.previous_avg, 0) as string), '千瓦时') as evidence,
        case when power.quantity <= 0.05 * power.previous_avg then '高' else '中' end as severity
    from power
    inner join enterprises on enterprises.enterprise_id = power.enterprise_id
    -- Warned at the onset: last month was still above a fifth of the same average (a firm already at zero does
    -- not collapse again each month; its activity band shows that it stays down).
    where power.previous_months >= 1 and power.previous_avg >= 1000 and power.quantity < 0.2 * power.previous_avg
      and power.last_month_quantity >= 0.2 * power.previous_avg
),

sanctions as (
    select penalties.enterprise_id, months.month,
           count(distinct penalties.department) as departments,
           concat_ws('、', collect_set(penalties.department_name)) as department_names,
           count(*) as sanctions
    from {{ ref('fct_penalties') }} as penalties
    inner join months
        on penalties.decided_on <= months.month_end and penalties.decided_on > add_months(months.month_end, -12)
    group by penalties.enterprise_id, months.month
),

multi_department as (
    select
        'multi_department' as warning_type,
        '多部门处罚' as warning_type_zh,
        sanctions.enterprise_id,
        enterprises.district_code,
        enterprises.industry_code,
        sanctions.month,
        concat('近12个月受到', sanctions.department_names, '共', cast(sanctions.sanctions as string), '项惩戒') as evidence,
        case when sanctions.departments >= 3 then '高' else '中' end as severity
    from sanctions
    inner join enterprises on enterprises.enterprise_id = sanctions.enterprise_id
    -- Reported in the first month the threshold is met, not again every month after.
    where sanctions.departments >= 2
),

first_multi as (
    select * except (recency) from (
        select *, row_number() over (partition by enterprise_id order by month) as recency from multi_department
    ) where recency = 1
),

disputes as (
    select mediations.enterprise_id, months.month,
           count(*) as disputes,
           sum(case when mediations.outcome = '调解成功' then 1 else 0 end) as settled
    from {{ ref('fct_mediation_cases') }} as mediations
    inner join months
        on mediations.closed_on <= months.month_end and mediations.closed_on > add_months(months.month_end, -12)
    group by mediations.enterprise_id, months.month
),

repeated_disputes as (
    select * except (recency) from (
        select
            'repeated_disputes' as warning_type,
            '消费纠纷反复发生' as warning_type_zh,
            disputes.enterprise_id,
            enterprises.district_code,
            enterprises.industry_code,
            disputes.month,
            concat('近12个月消费纠纷调解', cast(disputes.disputes as string), '件，其中调解成功',
                   cast(disputes.settled as string), '件') as evidence,
            case when disputes.disputes >= 5 or disputes.settled * 2 < disputes.disputes then '高' else '中' end
                as severity,
            -- Reported in the first month the threshold is met, not again every month after.
            row_number() over (partition by disputes.enterprise_id order by disputes.month) as recency
        from disputes
        inner join enterprises on enterprises.enterprise_id = disputes.enterprise_id
        where disputes.disputes >= 3
    ) where recency = 1
),

licence_history as (
    -- The lake holds a licence type's decisions from its earliest one on: from the register's stock when the first
    -- delivery of samr/licences carried it, else from the first month delivered. An enterprise established before
    -- that may hold a licence the lake never saw, so it is not judged.
    select licence_type, min(decided_on) as held_from
    from {{ ref('fct_licences') }}
    group by licence_type
),

licences_held as (
    select enterprise_id, licence_type, min(decided_on) as first_decided_on
    from {{ ref('fct_licences') }}
    group by enterprise_id, licence_type
),

licence_missing as (
    select * except (recency) from (
        select
            'licence_missing' as warning_type,
            '许可证缺失' as warning_type_zh,
            enterprise_months.enterprise_id,
            enterprise_months.district_code,
            enterprise_months.industry_code,
            enterprise_months.month,
            concat('成立于', cast(enterprise_months.established_on as string), '，属', needs.industry_name, '，成立',
                   cast(datediff(enterprise_months.month_end, enterprise_months.established_on) as string),
                   '日后仍无', needs.licence_type) as evidence,
            case when datediff(enterprise_months.month_end, enterprise_months.established_on) > 180 then '高'
                 else '中' end as severity,
            -- Reported in the first month the grace period is over without the licence, not again every month after.
            row_number() over (partition by enterprise_months.enterprise_id order by enterprise_months.month)
                as recency
        from {{ ref('int_enterprise_months') }} as enterprise_months
        inner join {{ ref('licensed_industries') }} as needs on needs.industry_code = enterprise_months.industry_code
        inner join licence_history on licence_history.licence_type = needs.licence_type
        left join licences_held
            on licences_held.enterprise_id = enterprise_months.enterprise_id
            and licences_held.licence_type = needs.licence_type
            and licences_held.first_decided_on <= enterprise_months.month_end
        where enterprise_months.established_on >= licence_history.held_from
            and datediff(enterprise_months.month_end, enterprise_months.established_on) > needs.grace_days
            and licences_held.enterprise_id is null
    ) where recency = 1
),

unioned as (
    select * from complaint_surges
    union all select * from area_surges
    union all select * from shell_clusters
    union all select * from collapses
    union all select * from first_multi
    union all select * from repeated_disputes
    union all select * from licence_missing
)

select
    sha2(concat_ws('|', unioned.warning_type, coalesce(unioned.enterprise_id, ''), unioned.district_code,
                   unioned.industry_code, unioned.month), 256) as warning_id,
    unioned.*,
    divisions.district_name
from unioned
left join {{ ref('stg_reference__divisions') }} as divisions on divisions.district_code = unioned.district_code
