with source as (
    select * from {{ silver_source('samr', 'samr__abnormal_list') }}
),

renamed as (
    select
        decision_no,
        uscc as enterprise_id,
        action,
        action_date,
        reason,
        removal_reason,
        listed_decision_no,
        authority,
        grounds_on,
        removal_applied_on,
        case_officer as case_officer_pseudonym,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
