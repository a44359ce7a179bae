with source as (
    select * from {{ silver_source('ndrc', 'ndrc__project_filings') }}
),

renamed as (
    select
        project_code as grant_id, uscc as enterprise_id, project_name, procedure, filed_on, total_investment as amount_10k_cny, status,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
