-- Per enterprise and month: each activity signal scaled to 0..1, and whether it applies to the enterprise in that
-- month: it has appeared in the source by then (what a month knows does not change when later months arrive, so a
-- month built alone and the same month in a full rebuild agree), and the source delivered that month (a delivery
-- that has not arrived yet is unknown, not a month of silence; the month is recomputed when it arrives).
-- The formulas and their reasoning are in docs/indicators.md. When mart_enterprise_activity_monthly is built
-- incrementally (macro incremental_from), only the recomputed months and the 12 months before them are read.
{%- set first = incremental_from('mart_enterprise_activity_monthly') %}
with base as (
    select * from {{ ref('int_enterprise_months') }}
    {% if first %}where month >= '{{ first }}'{% endif %}
),

utility as (
    select
        enterprise_id,
        month,
        -- The strongest of the enterprise's utilities, each against its own 12-month peak: a firm that still runs
        -- draws at least 30% of its peak month, standby loads draw a few percent.
        max(least(quantity / nullif(peak_12m, 0) / 0.3, 1.0)) as s_utility
    from (
        select
            enterprise_id, month, utility, quantity,
            max(quantity) over (
                partition by enterprise_id, utility order by month_index
                range between 11 preceding and current row
            ) as peak_12m
        from (
            select *, cast(substr(month, 1, 4) as int) * 12 + cast(substr(month, 6, 2) as int) as month_index
            from {{ ref('fct_utility_use') }}
            {% if first %}where month >= {{ months_before(first, 11) }}{% endif %}
        )
    )
    group by enterprise_id, month
),

delivered as (
    -- One row per month: which optional sources hold rows for it (a handful of rows, joined once).
    select
        month,
        max(source = 'utility') as utility, max(source = 'social') as social,
        max(source = 'invoices') as invoices, max(source = 'bank') as bank
    from (
        select distinct 'utility' as source, month from {{ ref('fct_utility_use') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select distinct 'social', month from {{ ref('fct_social_insurance') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select distinct 'invoices', month from {{ ref('fct_invoices') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select distinct 'bank', month from {{ ref('fct_bank_activity') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
    )
    group by month
),

has_utility as (
    select enterprise_id, min(month) as first_month from {{ ref('fct_utility_use') }} group by enterprise_id
),

bank as (
    select
        enterprise_id, month,
        least(transactions / greatest(0.3 * max(transactions) over (
            partition by enterprise_id order by month_index range between 11 preceding and current row), 3.0), 1.0)
            as s_bank
    from (
        select *, cast(substr(month, 1, 4) as int) * 12 + cast(substr(month, 6, 2) as int) as month_index
        from {{ ref('fct_bank_activity') }}
        {% if first %}where month >= {{ months_before(first, 11) }}{% endif %}
    )
),

has_bank as (
    select enterprise_id, min(month) as first_month from {{ ref('fct_bank_activity') }} group by enterprise_id
),

social as (
    select enterprise_id, month, case when insured_headcount > 0 then 1.0 else 0.0 end as s_social
    from {{ ref('fct_social_insurance') }}
),

has_social as (
    select enterprise_id, min(month) as first_month from {{ ref('fct_social_insurance') }} group by enterprise_id
),

invoices as (
    select enterprise_id, month, case when invoices_issued > 0 then 1.0 else 0.0 end as s_invoices
    from {{ ref('fct_invoices') }}
),

has_invoices as (
    select enterprise_id, min(month) as first_month from {{ ref('fct_invoices') }} group by enterprise_id
),

tax as (
    select enterprise_id, month, case when is_zero_declaration then 0.2 else 1.0 end as s_tax
    from {{ ref('fct_tax_filings') }}
),

reports as (
    select enterprise_id, report_year, filed_on, is_filed_on_time from {{ ref('fct_annual_reports') }}
),

bonus as (
    -- Evidence that only ever adds: a registration change, a licence decision or a customer complaint in the last
    -- 12 months shows someone is running the business.
    select
        base.enterprise_id,
        base.month,
        max(case when enterprises.last_changed_on > add_months(base.month_end, -12)
                 and enterprises.last_changed_on <= base.month_end then 1 else 0 end) as has_recent_change
    from base
    inner join {{ ref('int_enterprises_registered') }} as enterprises on enterprises.enterprise_id = base.enterprise_id
    group by base.enterprise_id, base.month
),

licences as (
    select base.enterprise_id, base.month, count(*) as recent_licences
    from base
    inner join {{ ref('fct_licences') }} as licences
        on licences.enterprise_id = base.enterprise_id
        and licences.decided_on > add_months(base.month_end, -12) and licences.decided_on <= base.month_end
        and licences.action in ('准予许可', '变更', '延续')
    group by base.enterprise_id, base.month
),

complaints as (
    select base.enterprise_id, base.month, count(*) as recent_complaints
    from base
    inner join {{ ref('fct_complaints') }} as complaints
        on complaints.enterprise_id = base.enterprise_id
        and complaints.received_on > add_months(base.month_end, -3) and complaints.received_on <= base.month_end
    group by base.enterprise_id, base.month
)

select
    base.month,
    base.month_end,
    base.enterprise_id,
    base.district_code,
    base.industry_code,
    coalesce(utility.s_utility, 0.0) as s_utility,
    coalesce(has_utility.first_month <= base.month and delivered.utility, false) as has_utility,
    coalesce(tax.s_tax, 0.0) as s_tax,
    coalesce(social.s_social, 0.0) as s_social,
    coalesce(has_social.first_month <= base.month and delivered.social, false) as has_social,
    coalesce(invoices.s_invoices, 0.0) as s_invoices,
    coalesce(has_invoices.first_month <= base.month and delivered.invoices, false) as has_invoices,
    coalesce(bank.s_bank, 0.0) as s_bank,
    coalesce(has_bank.first_month <= base.month and delivered.bank, false) as has_bank,
    -- Last year's report is due by 30 June; before July the report of the year before is the latest due.
    case
        when reports.is_filed_on_time then 1.0
        when reports.filed_on is not null then 0.6
        else 0.0
    end as s_annual_report,
    base.established_on <= make_date(
        year(base.month_end) - case when month(base.month_end) >= 7 then 1 else 2 end, 12, 31
    ) as has_annual_report_due,
    coalesce(bonus.has_recent_change, 0) = 1 as has_recent_change,
    coalesce(licences.recent_licences, 0) > 0 as has_recent_licence,
    coalesce(complaints.recent_complaints, 0) > 0 as has_recent_complaint
from base
left join delivered on delivered.month = base.month
left join utility on utility.enterprise_id = base.enterprise_id and utility.month = base.month
left join has_utility on has_utility.enterprise_id = base.enterprise_id
left join tax on tax.enterprise_id = base.enterprise_id and tax.month = base.month
left join social on social.enterprise_id = base.enterprise_id and social.month = base.month
left join has_social on has_social.enterprise_id = base.enterprise_id
left join invoices on invoices.enterprise_id = base.enterprise_id and invoices.month = base.month
left join has_invoices on has_invoices.enterprise_id = base.enterprise_id
left join bank on bank.enterprise_id = base.enterprise_id and bank.month = base.month
left join has_bank on has_bank.enterprise_id = base.enterprise_id
left join reports
    on reports.enterprise_id = base.enterprise_id
    and reports.report_year = year(base.month_end) - case when month(base.month_end) >= 7 then 1 else 2 end
    and reports.filed_on <= base.month_end
left join bonus on bonus.enterprise_id = base.enterprise_id and bonus.month = base.month
left join licences on licences.enterprise_id = base.enterprise_id and licences.month = base.month
left join complaints on complaints.enterprise_id = base.enterprise_id and complaints.month = base.month
