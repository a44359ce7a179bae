-- A 许可证缺失 warning names an enterprise of an industry in the seed licensed_industries, registered at the end of
-- the warning's month, established more than the grace period before it and holding no decision on the licence
-- it needs by then; and it is reported once per enterprise.
with warned as (
    select warnings.*, last_day(to_date(concat(warnings.month, '-01'))) as month_end
    from {{ ref('mart_warnings') }} as warnings
    where warnings.warning_type = 'licence_missing'
)

select warned.warning_id, 'holds the licence' as why
from warned
inner join {{ ref('licensed_industries') }} as needs on needs.industry_code = warned.industry_code
inner join {{ ref('fct_licences') }} as licences
    on licences.enterprise_id = warned.enterprise_id and licences.licence_type = needs.licence_type
    and licences.decided_on <= warned.month_end
union all
select warned.warning_id, 'not in a licensed industry, or within the grace period, or not registered'
from warned
left join {{ ref('licensed_industries') }} as needs on needs.industry_code = warned.industry_code
left join {{ ref('int_enterprises_registered') }} as enterprises on enterprises.enterprise_id = warned.enterprise_id
where needs.industry_code is null or enterprises.enterprise_id is null
    or datediff(warned.month_end, enterprises.established_on) <= needs.grace_days
    or enterprises.deregistered_on <= warned.month_end
union all
select max(warned.warning_id), 'warned more than once'
from warned
group by warned.enterprise_id
having count(*) > 1
