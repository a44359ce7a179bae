with source as (
    select * from {{ silver_source('credit', 'credit__red_black_list') }}
),

renamed as (
    select
        entry_id,
        uscc as enterprise_id,
        list_type,
        field,
        listing_authority,
        reason,
        listed_on,
        valid_until,
        removed_on,
        removal_reason,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
