-- Lost-contact enterprises (失联企业), in the legal sense: the enterprise cannot be reached through its registered
-- domicile (the abnormal-list ground 通过登记的住所或者经营场所无法联系), as of the lake's latest month. Two ways onto
-- the list (docs/indicators.md):
--   domicile     a finding at the domicile (the listing itself, an inspector who could not reach it, registered
--                mail returned as undeliverable there), since the enterprise registered that domicile, and enough
--                evidence in all (40 points);
--   early signs  no finding at the domicile yet, but the enterprise stopped at once in two or more departments'
--                records (no tax return at all, insured staff to zero, meters to zero): listed with priority 低, to
--                be verified, one or two months after it went rather than half a year.
-- Silence in one department alone (tax delinquency, a late annual report) never lists a firm. Each department's
-- silence is judged on the months that department delivered: a delivery that has not arrived is not a month of
-- silence. Utility use and insured staff count as silence only where they were there before (a firm metered
-- under its landlord, or with no staff, has no such signal, not a zero one); a meter no longer read counts as
-- one reading zero.
with as_of as (
    select max(month) as month, max(month_end) as month_end from {{ ref('int_months') }}
),

alive as (
    select enterprises.*
    from {{ ref('int_enterprises_registered') }} as enterprises
    cross join as_of
    left join {{ ref('int_deregistrations_on_quarantined_rows') }} as closed_on_quarantined_row
        on closed_on_quarantined_row.enterprise_id = enterprises.enterprise_id
        and closed_on_quarantined_row.deregistered_on <= as_of.month_end
    where enterprises.established_on <= add_months(as_of.month_end, -2)
      and (enterprises.deregistered_on is null or enterprises.deregistered_on > as_of.month_end)
      and closed_on_quarantined_row.enterprise_id is null
),

-- Each dataset's last two delivered months (a month is delivered when the dataset holds rows for it).
delivered as (
    select 'tax' as dataset, month from {{ ref('fct_tax_filings') }} group by month
    union all
    select 'social', month from {{ ref('fct_social_insurance') }} group by month
    union all
    select utility, month from {{ ref('fct_utility_use') }} group by utility, month
),

windows as (
    -- ... and the twelve months before them: use or staff there before is use or staff that stopped.
    select dataset, max(month) as latest_month, min(month) as prior_month,
           date_format(add_months(to_date(concat(min(month), '-01')), -12), 'yyyy-MM') as history_from
    from (
        select dataset, month, dense_rank() over (partition by dataset order by month desc) as recency
        from delivered
        where month <= (select month from as_of)
    )
    where recency <= 2
    group by dataset
),

tax_window as (
    select latest_month, prior_month from windows where dataset = 'tax'
),

tax_filed as (
    select enterprise_id, count(distinct filings.month) as months_filed,
           max(filings.month = tax_window.latest_month) as filed_latest
    from {{ ref('fct_tax_filings') }} as filings
    cross join tax_window
    where filings.month in (tax_window.prior_month, tax_window.latest_month)
    group by enterprise_id
),

returned_mail as (
    -- Returned from the domicile it has now: a letter returned before a registered move says nothing of it.
    select mail.enterprise_id, count(*) as returned, max(mail.returned_on) as last_returned_on
    from {{ ref('fct_returned_mail') }} as mail
    inner join alive on alive.enterprise_id = mail.enterprise_id
    cross join as_of
    where mail.reason in ('查无此单位', '原址无人', '迁移新址不明')
      and mail.returned_on > add_months(as_of.month_end, -6)
      and (alive.domicile_since is null or mail.returned_on >= alive.domicile_since)
    group by mail.enterprise_id
),

inspections as (
    select inspections.enterprise_id, max(inspections.inspected_on) as unreachable_on
    from {{ ref('fct_inspections') }} as inspections
    inner join alive on alive.enterprise_id = inspections.enterprise_id
    cross join as_of
    where inspections.result = '通过登记的住所或者经营场所无法联系'
      and inspections.inspected_on > add_months(as_of.month_end, -12)
      and (alive.domicile_since is null or inspections.inspected_on >= alive.domicile_since)
    group by inspections.enterprise_id
),

listings as (
    -- Listed on the abnormal-operation list for being unreachable, and not removed since.
    select listed.enterprise_id, max(listed.action_date) as listed_on
    from {{ ref('fct_abnormal_listings') }} as listed
    left join {{ ref('fct_abnormal_listings') }} as removed
        on removed.listed_decision_no = listed.decision_no and removed.action = '移出'
    where listed.action = '列入' and listed.reason = '通过登记的住所或者经营场所无法联系' and removed.decision_no is null
    group by listed.enterprise_id
),

non_filing as (
    -- Designated a non-filing taxpayer (非正常户) and not released since (a release on the same day or later
    -- ends it: the firm filed again).
    select enterprise_id, designated_on
    from (
        select enterprise_id,
               max(case when action = '认定' then action_date end) as designated_on,
               max(case when action = '解除' then action_date end) as released_on
        from {{ ref('stg_tax__non_filing') }}
        group by enterprise_id
    )
    where designated_on is not null and (released_on is null or released_on < designated_on)
),

utility_months as (
    -- Per enterprise and utility, use in the utility's own last two delivered months and in the year before: a
    -- meter not read in a delivered month reads zero (a closed account); without use before, nothing is known.
    select use.enterprise_id, use.utility, windows.latest_month, windows.prior_month,
           sum(case when use.month in (windows.prior_month, windows.latest_month) then use.quantity else 0 end)
               as recent_use,
           sum(case when use.month = windows.latest_month then use.quantity else 0 end) as latest_use,
           max(use.month = windows.latest_month) as latest_read,
           windows.latest_month = (select month from as_of) as is_current,
           sum(case when use.month = windows.prior_month then use.quantity else 0 end) as prior_use,
           sum(case when use.month < windows.prior_month then use.quantity else 0 end) as earlier_use,
           count(distinct case when use.month < windows.prior_month then use.month end) as earlier_months
    from {{ ref('fct_utility_use') }} as use
    inner join windows on windows.dataset = use.utility
    where use.month between windows.history_from and windows.latest_month
    group by use.enterprise_id, use.utility, windows.latest_month, windows.prior_month
),

utility as (
    -- Silent: every utility the enterprise used before reads (next to) zero in its own last two delivered months:
    -- at most a tenth of a month's use before, over both (standby loads, meter noise).
    select enterprise_id,
           bool_and(recent_use <= 0.1 * earlier_use / greatest(earlier_months, 1))
               and max(prior_use + earlier_use) > 0 as is_silent,
           -- Fell to (next to) zero: a meter read at most 5 % of the month before in the lake's latest month (a
           -- missing reading may be a row held in quarantine: not a stop), and no utility delivered for that month
           -- still in use; a utility whose delivery lags behind says nothing of that month.
           bool_or(is_current and prior_use > 0 and latest_read and latest_use <= 0.05 * prior_use)
               and bool_and(not is_current or latest_use <= 0.05 * prior_use) as fell_to_zero
    from utility_months
    group by enterprise_id
),

social as (
    select insured.enterprise_id,
           max(case when insured.month in (windows.prior_month, windows.latest_month)
                    then insured.insured_headcount else 0 end) as recent_headcount,
           max(case when insured.month = windows.latest_month then insured.insured_headcount else 0 end)
               as latest_headcount,
           max(case when insured.month = windows.prior_month then insured.insured_headcount else 0 end)
               as prior_headcount,
           max(case when insured.month < windows.prior_month then insured.insured_headcount else 0 end)
               as earlier_headcount
    from {{ ref('fct_social_insurance') }} as insured
    inner join windows on windows.dataset = 'social'
    where insured.month between windows.history_from and windows.latest_month
    group by insured.enterprise_id
),

report_due as (
    -- The last annual report already due (30 June of the year after, 企业信息公示暂行条例 art. 8), judged only
    -- when the lake holds reports of that year at all (else nothing is known of it).
    select year(as_of.month_end) - case when month(as_of.month_end) >= 7 then 1 else 2 end as report_year
    from as_of
),

report_due_known as (
    select report_due.report_year
    from report_due
    where exists (
        select 1 from {{ ref('fct_annual_reports') }} as reports
        where reports.report_year = report_due.report_year and reports.filed_on is not null
    )
),

reported as (
    -- Filed that report, or a later one: a firm reporting on this year is not missing last year's.
    select distinct reports.enterprise_id
    from {{ ref('fct_annual_reports') }} as reports
    cross join report_due_known
    where reports.filed_on is not null and reports.report_year >= report_due_known.report_year
),

evidence as (
    select
        alive.enterprise_id,
        alive.enterprise_name,
        alive.district_code,
        alive.industry_code,
        alive.address,
        coalesce(tax_filed.months_filed, 0) as tax_months_filed,
        coalesce(returned_mail.returned, 0) as returned_mail,
        inspections.unreachable_on,
        listings.listed_on,
        non_filing.designated_on,
        coalesce(utility.is_silent, false) as is_utility_silent,
        coalesce(social.recent_headcount = 0 and social.earlier_headcount > 0, false) as is_social_insurance_silent,
        -- Stopped in the latest month: no tax return (not even a zero one, which dormant firms still file).
        tax_window.latest_month is not null and not coalesce(tax_filed.filed_latest, false) as is_tax_stopped,
        coalesce(utility.fell_to_zero, false) as is_utility_stopped,
        coalesce(social.prior_headcount > 0 and social.latest_headcount = 0, false) as is_staff_stopped,
        report_due_known.report_year as report_year_due,
        report_due_known.report_year is not null
            and alive.established_on <= make_date(report_due_known.report_year, 12, 31)
            and reported.enterprise_id is null as is_annual_report_missing,
        as_of.month as as_of_month
    from alive
    cross join as_of
    left join tax_window on true
    left join report_due_known on true
    left join tax_filed on tax_filed.enterprise_id = alive.enterprise_id
    left join returned_mail on returned_mail.enterprise_id = alive.enterprise_id
    left join inspections on inspections.enterprise_id = alive.enterprise_id
    left join listings on listings.enterprise_id = alive.enterprise_id
    left join non_filing on non_filing.enterprise_id = alive.enterprise_id
    left join utility on utility.enterprise_id = alive.enterprise_id
    left join social on social.enterprise_id = alive.enterprise_id
    left join reported on reported.enterprise_id = alive.enterprise_id
),

flagged as (
    select
        *,
        listed_on is not null or unreachable_on is not null or returned_mail > 0 as has_domicile_finding,
        -- Everything stopped in the latest month at once: no tax return at all, and power/water/gas use or insured
        -- staff that were there the month before fell to zero (each in its own latest delivered month).
        is_tax_stopped and (is_utility_stopped or is_staff_stopped) as is_stopped_at_once,
        -- Departments whose records fell silent: tax, utilities, social insurance.
        case when tax_months_filed = 0 or designated_on is not null or is_tax_stopped then 1 else 0 end
            + case when is_utility_silent or is_utility_stopped then 1 else 0 end
            + case when is_social_insurance_silent or is_staff_stopped then 1 else 0 end as silent_departments
    from evidence
),

scored as (
    select
        *,
        filter(array(
            case when listed_on is not null then '已因“通过登记的住所或者经营场所无法联系”列入经营异常名录' end,
            case when unreachable_on is not null then concat('检查人员在住所无法联系（', cast(unreachable_on as string), '）') end,
            case when returned_mail > 0 then concat('寄往住所的邮件被退回', cast(returned_mail as string), '次（查无此单位、原址无人或迁移新址不明）') end,
            case when tax_months_filed = 0 then '近两个月未进行纳税申报' when tax_months_filed = 1 then '近两个月中有一个月未申报纳税' end,
            case when designated_on is not null then '被税务机关认定为非正常户' end,
            case when is_utility_silent then '近两个月水、电、气用量为零' end,
            case when is_stopped_at_once then '最近一个月纳税申报、水电气用量或社保缴费同时中断' end,
            case when is_social_insurance_silent then '近两个月无社保缴费人员' end,
            case when is_annual_report_missing then concat('未报送', cast(report_year_due as string), '年度年度报告') end
        ), reason -> reason is not null) as reasons,
        least(100,
            case when listed_on is not null then 40 else 0 end
            + case when unreachable_on is not null then 35 else 0 end
            + case when returned_mail > 0 then 35 else 0 end
            + case when tax_months_filed = 0 then 30 when tax_months_filed = 1 then 15 else 0 end
            + case when designated_on is not null then 25 else 0 end
            + case when is_utility_silent then 10 else 0 end
            + case when is_stopped_at_once then 25 else 0 end
            + case when is_social_insurance_silent then 5 else 0 end
            + case when is_annual_report_missing then 10 else 0 end
        ) as score
    from flagged
)

select
    scored.as_of_month,
    scored.enterprise_id,
    scored.enterprise_name,
    scored.district_code,
    divisions.district_name,
    scored.industry_code,
    scored.address,
    scored.score,
    case when not scored.has_domicile_finding then '低'
         when scored.score >= 70 then '高' when scored.score >= 55 then '中' else '低' end as priority,
    case when scored.has_domicile_finding then '住所无法联系' else '多部门记录同时中断（待核实）' end as basis,
    scored.reasons,
    concat_ws('；', scored.reasons) as reasons_text,
    case when scored.listed_on is not null then '已列入经营异常名录' else '待核查' end as follow_up_status,
    scored.returned_mail,
    scored.tax_months_filed,
    scored.unreachable_on,
    scored.listed_on,
    scored.designated_on,
    scored.is_utility_silent,
    scored.is_stopped_at_once,
    scored.is_social_insurance_silent,
    scored.is_annual_report_missing,
    scored.silent_departments
from scored
left join {{ ref('stg_reference__divisions') }} as divisions on divisions.district_code = scored.district_code
where scored.score >= 40
  and (scored.listed_on is not null
       or (scored.has_domicile_finding and scored.silent_departments >= 1)
       or scored.silent_departments >= 2)
