with source as (
    select * from {{ silver_source('court', 'court__judgments') }}
),

renamed as (
    select
        case_no,
        uscc as enterprise_id,
        court_name,
        case_type,
        cause,
        role,
        filed_on,
        judged_on,
        document_type,
        outcome,
        amount as amount_cny,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
