with source as (
    select * from {{ silver_source('procurement', 'procurement__bids_won') }}
),

renamed as (
    select
        concat(project_no, '-', coalesce(lot_no, '')) as grant_id, uscc as enterprise_id, trade_type, awarded_on, award_amount as amount_cny, district_code,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
