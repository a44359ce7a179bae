with source as (
    select * from {{ silver_source('samr', 'samr__annual_reports') }}
),

renamed as (
    select
        uscc as enterprise_id,
        report_year,
        filed_on,
        is_filed_on_time,
        business_status,
        employees,
        insured_headcount,
        revenue as revenue_10k_cny,
        tax_paid as tax_paid_10k_cny,
        email,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
