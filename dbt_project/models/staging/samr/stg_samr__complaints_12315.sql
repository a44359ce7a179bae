with source as (
    select * from {{ silver_source('samr', 'samr__complaints_12315') }}
),

renamed as (
    select
        complaint_id,
        uscc as enterprise_id,
        received_on,
        date_format(received_on, 'yyyy-MM') as month,
        kind,
        category,
        channel,
        amount_involved as amount_cny,
        status,
        closed_on,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
