-- The activity index is the sum of its signals' points (capped at 100): an officer can always see why.
select *
from {{ ref('mart_enterprise_activity_monthly') }}
where abs(activity_index - least(points_utility + points_tax + points_social + points_bank + points_invoices
                                 + points_annual_report + points_bonus, 100.0)) > 0.01
