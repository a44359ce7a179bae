with source as (
    select * from {{ silver_source('water', 'water__consumption') }}
),

renamed as (
    select
        account_no as account_id,
        period as month,
        m3,
        arrears as arrears_cny,
        read_date as read_on,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
