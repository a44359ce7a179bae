with source as (
    select * from {{ silver_source('bank', 'bank__monthly_activity') }}
),

renamed as (
    select
        account_no as account_id,
        period as month,
        transactions,
        inflow as inflow_cny,
        outflow as outflow_cny,
        counterparties,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
