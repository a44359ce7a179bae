with source as (
    select * from {{ silver_source('sci', 'sci__high_tech_certificates') }}
),

renamed as (
    select
        certificate_no as grant_id, uscc as enterprise_id, issued_on, valid_until, revoked_on,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
