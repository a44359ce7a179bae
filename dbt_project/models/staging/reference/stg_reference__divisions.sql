with source as (
    select * from {{ source('reference', 'ref_divisions') }}
)

select district_code, district_name, city_code, city_name from source
