with source as (
    select * from {{ source('power', 'power__consumption') }}
),

renamed as (
    select
        account_no as account_id,
        uscc as enterprise_id,
        period as month,
        to_date(concat(period, '-01')) as month_start,
        last_day(to_date(concat(period, '-01'))) as month_end,
        kwh,
        read_date as read_on
    from source
)

select * from renamed
