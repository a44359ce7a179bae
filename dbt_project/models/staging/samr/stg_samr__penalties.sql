with source as (
    select * from {{ silver_source('samr', 'samr__penalties') }}
),

renamed as (
    select
        decision_no,
        uscc as enterprise_id,
        decided_on,
        violation_type,
        legal_basis,
        penalty_type,
        fine_amount as fine_cny,
        confiscated_amount as confiscated_cny,
        district_code,
        publicity_until,
        case_filed_on,
        published_on,
        deciding_authority,
        case_officer as case_officer_pseudonym,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
