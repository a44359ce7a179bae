with source as (
    select * from {{ silver_source('finance', 'finance__subsidies') }}
),

renamed as (
    select
        payment_no as grant_id, uscc as enterprise_id, programme, funding_level, department as granting_unit, paid_on, amount as amount_cny,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
