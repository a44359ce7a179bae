with source as (
    select * from {{ silver_source('samr', 'samr__licences') }}
),

renamed as (
    select
        licence_no,
        uscc as enterprise_id,
        licence_type,
        action,
        decided_on,
        valid_from,
        valid_until,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
