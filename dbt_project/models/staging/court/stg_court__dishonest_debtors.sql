with source as (
    select * from {{ silver_source('court', 'court__dishonest_debtors') }}
),

renamed as (
    select
        case_no,
        uscc as enterprise_id,
        basis_doc_no,
        conduct,
        listed_on,
        removed_on,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
