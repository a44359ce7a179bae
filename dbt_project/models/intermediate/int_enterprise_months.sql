-- One row per enterprise and month in which it existed at month end (registered, not yet deregistered).
select
    months.month,
    months.month_start,
    months.month_end,
    enterprises.enterprise_id,
    enterprises.district_code,
    enterprises.industry_code,
    enterprises.established_on,
    enterprises.last_changed_on
from {{ ref('int_months') }} as months
inner join {{ ref('int_enterprises_registered') }} as enterprises
    on enterprises.established_on <= months.month_end
    and (enterprises.deregistered_on is null or enterprises.deregistered_on > months.month_end)
