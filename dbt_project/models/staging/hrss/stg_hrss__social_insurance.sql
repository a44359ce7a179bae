with source as (
    select * from {{ silver_source('hrss', 'hrss__social_insurance') }}
),

renamed as (
    select
        uscc as enterprise_id,
        period as month,
        insurance_type,
        insured_headcount,
        amount_due as amount_due_cny,
        amount_paid as amount_paid_cny,
        months_in_arrears,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
