with source as (
    select * from {{ silver_source('water', 'water__accounts') }}
),

renamed as (
    select
        account_no as account_id,
        uscc as enterprise_id,
        opened_on,
        customer_type,
        status,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
