with source as (
    select * from {{ silver_source('housing', 'housing__qualifications') }}
),

renamed as (
    select
        certificate_no as grant_id, uscc as enterprise_id, category, qualification, grade, issued_on, valid_until, status,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
