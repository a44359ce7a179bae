with source as (
    select * from {{ silver_source('samr', 'samr__registrations') }}
),

renamed as (
    select
        uscc as enterprise_id,
        name as enterprise_name,
        event_type,
        event_date,
        district_code,
        industry_code,
        established_date as established_on,
        registered_capital as registered_capital_10k_cny,
        address as address,
        legal_rep_name as legal_rep_pseudonym,
        contact_phone as contact_phone_pseudonym,
        -- Flags derived from the clear values at bronze (the values themselves never land).
        contact_phone_is_valid,
        legal_rep_id_no_is_valid,
        legal_rep_id_no_age_band as legal_rep_age_band,
        applied_on,
        registration_authority,
        approving_officer as approving_officer_pseudonym,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
