with source as (
    select * from {{ silver_source('bank', 'bank__accounts') }}
),

renamed as (
    select
        account_no as account_id,
        uscc as enterprise_id,
        bank_code,
        account_type,
        opened_on,
        status,
        closed_on,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
