-- Annual-report reminder list (年报催报名单): enterprises that had not filed last year's report by the lake's latest
-- month, with the channels that still reach them, for point-to-point reminders before 30 June.
with due as (
    select * from {{ ref('int_annual_report_due') }} where filed_on is null or filed_on > as_of
),

emails as (
    select enterprise_id, max_by(email, report_year) as email
    from {{ ref('fct_annual_reports') }}
    where email is not null
    group by enterprise_id
),

mail_returned as (
    select enterprise_id, max(returned_on) as last_returned_on
    from {{ ref('fct_returned_mail') }}
    where reason in ('查无此单位', '原址无人', '迁移新址不明')
    group by enterprise_id
)

select
    due.report_year,
    due.as_of,
    due.deadline,
    datediff(due.deadline, due.as_of) as days_to_deadline,
    due.enterprise_id,
    due.enterprise_name,
    due.district_code,
    divisions.district_name,
    due.industry_code,
    -- A phone on the register reaches the firm only if it is a well-formed number (flag derived at bronze).
    coalesce(due.contact_phone_is_valid, false) as can_phone,
    emails.email is not null as can_email,
    mail_returned.enterprise_id is null as can_mail,
    concat_ws('、', filter(array(
        case when due.contact_phone_is_valid then '电话/短信' end,
        case when emails.email is not null then '电子邮箱' end,
        case when mail_returned.enterprise_id is null then '邮寄至住所' end
    ), channel -> channel is not null)) as channels
from due
left join emails on emails.enterprise_id = due.enterprise_id
left join mail_returned on mail_returned.enterprise_id = due.enterprise_id
left join {{ ref('stg_reference__divisions') }} as divisions on divisions.district_code = due.district_code
