with source as (
    select * from {{ silver_source('samr', 'samr__inspections') }}
),

renamed as (
    select
        inspection_id,
        uscc as enterprise_id,
        inspection_type,
        inspected_on,
        result,
        district_code,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
