with source as (
    select * from {{ silver_source('post', 'post__returned_mail') }}
),

renamed as (
    select
        mail_id,
        uscc as enterprise_id,
        sender,
        mail_type,
        district_code,
        sent_on,
        returned_on,
        date_format(returned_on, 'yyyy-MM') as month,
        reason,
        delivery_attempts,
        _period as period,
        _row_number as source_row_number,
        _delivery_id as delivery_id
    from source
)

select * from renamed
