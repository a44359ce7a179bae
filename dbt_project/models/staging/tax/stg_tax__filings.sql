with source as (
    select * from {{ silver_source('tax', 'tax__filings') }}
),

renamed as (
    select
        uscc as enterprise_id,
        period as month,
        tax_type,
        tax_base as tax_base_cny,
        declared_amount as declared_cny,
        filed_on,
        is_zero_declaration,
        is_late,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
