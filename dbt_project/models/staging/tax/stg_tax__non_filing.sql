with source as (
    select * from {{ silver_source('tax', 'tax__non_filing') }}
),

renamed as (
    select
        uscc as enterprise_id,
        action,
        action_date,
        months_not_filed,
        arrears_amount_band as arrears_band_cny,  -- the amount is secret: only its band lands
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
