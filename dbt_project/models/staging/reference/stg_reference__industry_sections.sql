with source as (
    select * from {{ source('reference', 'ref_industry_sections') }}
)

select industry_code, industry_name from source
