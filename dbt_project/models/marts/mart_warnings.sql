-- Early warnings (风险预警), one row per warning, each with its reason and evidence in Chinese:
--   complaint_surge      an enterprise's complaints in a month far above its baseline: its own level (with its
--                        industry's season), its own same season a year back, or its industry's rate
--   area_complaint_surge a district x industry's complaints in a month far above its own other months
--   shell_cluster        one domicile, phone or legal representative behind a burst of newly registered, unrelated
--                        firms (not one group's project companies, not a business centre's usual flow)
--   utility_collapse     power use falling below a fifth of the enterprise's previous three months (the onset), not
--                        in its season, not winding down, not while its tax and staff go on
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

firm_months as (
    -- Every month each enterprise was registered, with its complaints (none is zero: 12315 delivers daily).
    select enterprise_months.enterprise_id, enterprise_months.month, enterprise_months.industry_code,
           enterprise_months.established_on, coalesce(complaint_counts.complaints, 0) as complaints
    from {{ ref('int_enterprise_months') }} as enterprise_months
    left join complaint_counts
        on complaint_counts.enterprise_id = enterprise_months.enterprise_id
        and complaint_counts.month = enterprise_months.month
),

industry_months as (
    -- The industry's enterprises that month, how many of them had a complaint, and that share over the twelve
    -- months before.
    select *,
           avg(complained / enterprises) over (partition by industry_code order by month
                                               rows between 12 preceding and 1 preceding) as share_before
    from (
        select industry_code, month, count(*) as enterprises,
               count_if(complaints > 0) as complained
        from firm_months
        group by industry_code, month
    )
),

firm_history as (
    select
        firm_months.*,
        sum(complaints) over (partition by enterprise_id order by month rows between 12 preceding and 1 preceding)
            as complaints_before,
        count(*) over (partition by enterprise_id order by month rows between 12 preceding and 1 preceding)
            as months_before,
        var_samp(complaints) over (partition by enterprise_id order by month rows between 12 preceding and 1 preceding)
            as variance_before,
        -- The same season a year back (the month and its neighbours), when the lake holds it.
        avg(complaints) over (partition by enterprise_id order by month rows between 13 preceding and 11 preceding)
            as same_season_last_year,
        count(*) over (partition by enterprise_id order by month rows between 13 preceding and 11 preceding)
            as season_months
    from firm_months
),

enterprise_baselines as (
    -- Each enterprise-month against its baseline, the largest of:
    --   its level: its complaints over its months in the lake before this one (up to twelve) with its industry's
    --             rate for six months more (the rate: the share of the industry's other enterprises with a complaint
    --             that month - leave-one-out, and for Poisson rates this small the share is the rate - or its mean
    --             share over the year before if higher, 1 % at least): a new firm gets its industry's rate, a firm
    --             quiet for a year much less;
    --   its own mean over those months (a large firm's level is its own, not shrunk);
    --   its own season: its mean over the same month and its neighbours a year back (a recurring peak).
    -- A firm whose counts vary more than a Poisson's (variance above 1.2 x its mean) is tested against a negative
    -- binomial of its own dispersion.
    select
        firm_history.enterprise_id,
        firm_history.month,
        firm_history.complaints,
        enterprises.district_code,
        enterprises.industry_code,
        cast(industry_months.complained - 1 as double) / (industry_months.enterprises - 1) as industry_share,
        greatest(cast(industry_months.complained - 1 as double) / (industry_months.enterprises - 1),
                 coalesce(industry_months.share_before, 0), 0.01) as industry_rate,
        coalesce(firm_history.complaints_before / nullif(firm_history.months_before, 0), 0) as own_level,
        coalesce(firm_history.complaints_before, 0) as complaints_before,
        firm_history.months_before,
        industry_months.enterprises as industry_enterprises,
        -- Judged where the enterprise has two months of history in the lake, or all its life is there (a new firm).
        firm_history.months_before >= 2
            or firm_history.established_on >= (select min(month_start) from months) as is_judged,
        case when firm_history.season_months = 3 then firm_history.same_season_last_year end as own_season,
        -- The firm's own overdispersion (negative binomial size r from its months before: variance = mean +
        -- mean^2 / r); none where its counts vary no more than a Poisson's.
        case when firm_history.months_before >= 3 and firm_history.variance_before
                  > 1.2 * firm_history.complaints_before / firm_history.months_before
             then greatest(power(firm_history.complaints_before / firm_history.months_before, 2)
                           / (firm_history.variance_before - firm_history.complaints_before / firm_history.months_before),
                           0.1) end as dispersion
    from firm_history
    inner join enterprises on enterprises.enterprise_id = firm_history.enterprise_id
    inner join industry_months
        on industry_months.industry_code = firm_history.industry_code and industry_months.month = firm_history.month
    where industry_months.enterprises > 1
),

baselines as (
    -- The firm's level shrunk towards its industry's rate by 6 months' weight (a firm with no complaint in a year is
    -- not at its industry's rate; a new firm is), never below its own mean or its own season.
    select *,
           greatest(own_level, (complaints_before + 6 * industry_rate) / (months_before + 6),
                    coalesce(own_season, 0)) as baseline
    from enterprise_baselines
),

complaint_tests as (
    select *,
           -- P(X >= complaints) under the baseline: 1 - the CDF at complaints - 1, summed term by term, of a
           -- Poisson, or of a negative binomial of the firm's own dispersion where its history is overdispersed
           -- (a firm whose complaints come in bursts is less surprised by one).
           case when dispersion is null then
               1 - aggregate(sequence(1, complaints - 1), named_struct('term', exp(-baseline), 'cdf', exp(-baseline)),
                             (acc, k) -> named_struct('term', acc.term * baseline / k,
                                                      'cdf', acc.cdf + acc.term * baseline / k),
                             acc -> acc.cdf)
           else
               1 - aggregate(sequence(1, complaints - 1),
                             named_struct('term', exp(dispersion * ln(dispersion / (dispersion + baseline))),
                                          'cdf', exp(dispersion * ln(dispersion / (dispersion + baseline)))),
                             (acc, k) -> named_struct(
                                 'term', acc.term * (k - 1 + dispersion) / k * baseline / (dispersion + baseline),
                                 'cdf', acc.cdf + acc.term * (k - 1 + dispersion) / k * baseline / (dispersion + baseline)),
                             acc -> acc.cdf)
           end as p_value
    from baselines
    where complaints >= 3
),

industry_jumps as (
    -- Firms of an industry that jumped in a month (3 complaints at least, 3 times their baseline), and by how much
    -- the typical one did (the median of complaints / baseline): when several firms jump together it is the
    -- industry's season or a sector event (area_complaint_surge), which lifts each of them by a like factor.
    select industry_code, month, count_if(jumped) as jumped,
           percentile_approx(case when jumped then complaints / baseline end, 0.5) as jump_factor
    from (select *, complaints >= 3 and complaints >= 3 * baseline as jumped from baselines)
    group by industry_code, month
),

complaint_surges as (
    select
        'complaint_surge' as warning_type,
        '投诉激增' as warning_type_zh,
        enterprise_id,
        district_code,
        industry_code,
        month,
        concat('当月投诉', cast(complaints as string), '件，基线', cast(round(baseline, 1) as string),
               '件（本企业此前月均', cast(round(own_level, 1) as string), '件',
               coalesce(concat('，上年同期月均', cast(round(own_season, 1) as string), '件'), ''),
               '；同行业其他企业当月被投诉比例', cast(round(industry_share * 100, 1) as string), '%），超出',
               cast(round(complaints - baseline, 1) as string), '件') as evidence,
        case when complaints >= greatest(5, 4 * baseline) then '高' else '中' end as severity
    from complaint_tests
    inner join industry_jumps using (industry_code, month)
    -- Three complaints at least, improbable under the baseline (under 1 in 10,000 enterprise-months) and at least
    -- twice it: a firm with 40 complaints every month is not surging at 45. Not while two or more other firms of its
    -- industry, 10 % of them at least, jump with it, unless its own jump is far beyond theirs (more than three times
    -- the typical jumping firm's factor: a firm with none for a year and 7 now, when its section's seasonal firms
    -- tripled).
    where is_judged and p_value < 1e-4 and complaints >= 2 * baseline
      and not (industry_jumps.jumped - 1 >= 2 and industry_jumps.jumped - 1 >= 0.1 * (industry_enterprises - 1)
               and complaints <= 3 * baseline * industry_jumps.jump_factor)
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
    select 'address' as key_type, address as key_value, enterprise_id, enterprise_name, established_on,
           district_code, industry_code
    from enterprises where address is not null
    union all
    select 'phone', contact_phone_pseudonym, enterprise_id, enterprise_name, established_on, district_code, industry_code
    from enterprises where contact_phone_pseudonym is not null
    union all
    select 'legal_rep', legal_rep_pseudonym, enterprise_id, enterprise_name, established_on, district_code,
           industry_code
    from enterprises where legal_rep_pseudonym is not null
),

key_bursts as (
    -- For each enterprise, the enterprises of the same key established in the 90 days up to its establishment.
    select *,
           count(*) over (partition by key_type, key_value order by datediff(established_on, date'1970-01-01')
                          range between 90 preceding and current row) as burst,
           count(*) over (partition by key_type, key_value) as key_firms,
           min(established_on) over (partition by key_type, key_value) as key_first_on,
           max(established_on) over (partition by key_type, key_value) as key_last_on
    from shared_keys
),

densest as (
    -- Each key's densest 90 days (the latest of equals), if recent: up to a year before the lake's first month.
    select * from (
        select key_type, key_value, established_on as burst_end, burst, key_firms, key_first_on, key_last_on,
               row_number() over (partition by key_type, key_value order by burst desc, established_on desc) as rank
        from key_bursts
        where burst >= 5
    )
    where rank = 1 and burst_end >= (select add_months(min(month_start), -12) from months)
),

burst_members as (
    select key_bursts.key_type, key_bursts.key_value, key_bursts.enterprise_id, key_bursts.enterprise_name,
           key_bursts.established_on, key_bursts.district_code, key_bursts.industry_code, densest.burst,
           densest.key_firms, densest.key_first_on, densest.key_last_on,
           -- The trade name (字号): the name without the province, city and district in front, first two characters.
           substr(regexp_replace(
               regexp_replace(key_bursts.enterprise_name, '^(贵州省|贵州|贵阳市|贵阳)', ''),
               concat('^(', (select concat_ws('|', collect_set(regexp_replace(district_name, '(区|县|市)$', '')))
                             from {{ ref('stg_reference__divisions') }}), ')(区|县|市)?'), ''), 1, 2) as trade_name
    from key_bursts
    inner join densest
        on densest.key_type = key_bursts.key_type and densest.key_value = key_bursts.key_value
        and key_bursts.established_on between date_sub(densest.burst_end, 90) and densest.burst_end
),

clusters as (
    -- A cluster: 5 or more enterprises in 90 days, far above what the key registers otherwise (a business centre or
    -- a registration agent serving unrelated firms over years registers a few a quarter), and not one group's
    -- project companies (most of them sharing one trade name).
    select key_type, key_value, burst as firms, min(established_on) as first_on, max(established_on) as last_on
    from (
        select *, count(*) over (partition by key_type, key_value, trade_name) as same_trade_name
        from burst_members
    )
    group by key_type, key_value, burst, key_firms, key_first_on, key_last_on
    having burst > 3 * (key_firms - burst) / greatest(datediff(key_last_on, key_first_on) / 90.0, 4.0)
       and max(same_trade_name) < 0.6 * burst
),

shell_clusters as (
    select
        'shell_cluster' as warning_type,
        '疑似集中注册空壳企业' as warning_type_zh,
        burst_members.enterprise_id,
        first(burst_members.district_code) as district_code,
        first(burst_members.industry_code) as industry_code,
        date_format(max(clusters.last_on), 'yyyy-MM') as month,
        concat_ws('；', collect_set(concat(
            case clusters.key_type when 'address' then '同一住所' when 'phone' then '同一联系电话' else '同一法定代表人' end,
            '在', cast(datediff(clusters.last_on, clusters.first_on) as string), '天内登记',
            cast(clusters.firms as string), '户企业'))) as evidence,
        case when count(*) >= 2 then '高' else '中' end as severity
    from burst_members
    inner join clusters on clusters.key_type = burst_members.key_type and clusters.key_value = burst_members.key_value
    group by burst_members.enterprise_id
),

power_readings as (
    -- Power readings as delivered: a month without one (not delivered, or its row quarantined) is unknown, and
    -- left out; the first reading of all is where the lake's power history starts.
    select enterprise_id, month, quantity,
           min(month) over () as lake_first_month,
           min(month) over (partition by enterprise_id) as first_month
    from {{ ref('fct_utility_use') }}
    where utility = 'power'
),

power as (
    select
        enterprise_id, month, quantity,
        avg(quantity) over (partition by enterprise_id order by month rows between 3 preceding and 1 preceding) as previous_avg,
        max(quantity) over (partition by enterprise_id order by month rows between 3 preceding and 1 preceding) as previous_max,
        count(*) over (partition by enterprise_id order by month rows between 3 preceding and 1 preceding) as previous_months,
        lag(quantity) over (partition by enterprise_id order by month) as last_month_quantity,
        -- The same season a year back (the month and its neighbours) against that year's mean: a firm that fell
        -- the same way then is seasonal.
        min(quantity) over (partition by enterprise_id order by month rows between 13 preceding and 11 preceding)
            as last_season_low,
        first_month > lake_first_month as is_whole_history,
        avg(quantity) over (partition by enterprise_id order by month rows between 12 preceding and 1 preceding)
            as year_avg,
        count(*) over (partition by enterprise_id order by month rows between 12 preceding and 12 preceding)
            as year_back_months
    from power_readings
),

operating_on as (
    -- Tax declared and insured staff in the month of the fall, against the three months before: a firm whose
    -- business goes on as before lost a meter (a finished site, a move), not its business.
    select enterprise_id, month,
           declared_cny > 0 and not is_zero_declaration
               and declared_cny >= 0.3 * avg(declared_cny) over (partition by enterprise_id order by month
                                                                   rows between 3 preceding and 1 preceding)
               as tax_goes_on
    from {{ ref('fct_tax_filings') }}
),

staff_on as (
    select enterprise_id, month,
           insured_headcount > 0
               and insured_headcount >= 0.5 * avg(insured_headcount) over (partition by enterprise_id order by month
                                                                             rows between 3 preceding and 1 preceding)
               as staff_goes_on
    from {{ ref('fct_social_insurance') }}
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
               cast(round(power.previous_avg, 0) as string), '千瓦时',
               case when power.year_back_months = 1 then '，上年同期未见同样下降' else '' end) as evidence,
        case when power.quantity <= 0.05 * power.previous_avg then '高' else '中' end as severity
    from power
    inner join enterprises on enterprises.enterprise_id = power.enterprise_id
    left join operating_on on operating_on.enterprise_id = power.enterprise_id and operating_on.month = power.month
    left join staff_on on staff_on.enterprise_id = power.enterprise_id and staff_on.month = power.month
    -- Warned at the onset, against the average of the three readings before it (two at the lake's start: one month
    -- is no level; all of them for a firm whose readings began after the lake's), a level of 1,000 kWh at least in
    -- one of them, last month still above a fifth of that average (a firm already at zero does not collapse again
    -- each month; its activity band shows that it stays down).
    where (power.previous_months >= 2 or (power.is_whole_history and power.previous_months >= 1))
      and power.previous_max >= 1000 and power.quantity < 0.2 * power.previous_avg
      and power.last_month_quantity >= 0.2 * power.previous_avg
      -- Not its season: a year back it did not fall as low against that year's mean (unknown before a year).
      and not coalesce(power.year_back_months = 1 and power.last_season_low < 0.35 * power.year_avg, false)
      -- Not a firm winding down towards its deregistration, nor one whose tax and staff go on as before.
      and enterprises.deregistered_on is null
      and not coalesce(operating_on.tax_goes_on and coalesce(staff_on.staff_goes_on, true), false)
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
