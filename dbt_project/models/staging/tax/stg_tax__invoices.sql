with source as (
    select * from {{ silver_source('tax', 'tax__invoices') }}
),

renamed as (
    select
        uscc as enterprise_id,
        period as month,
        invoice_kind,
        issued_count,
        issued_amount as issued_cny,
        red_letter_count,
        buyer_count,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
