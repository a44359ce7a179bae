with source as (
    select * from {{ silver_source('samr', 'samr__mediation_cases') }}
),

renamed as (
    select
        case_id,
        complaint_id,
        uscc as enterprise_id,
        category,
        outcome,
        settlement,
        amount_involved as amount_cny,
        settled_amount as settled_cny,
        closed_on,
        cited_articles,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
