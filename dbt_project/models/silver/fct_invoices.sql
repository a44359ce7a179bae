-- Invoices issued per enterprise and month (all invoice kinds).
select
    enterprise_id,
    month,
    cast(sum(issued_count) as bigint) as invoices_issued,
    cast(sum(issued_cny) as double) as invoiced_cny,
    cast(sum(red_letter_count) as bigint) as red_letter_invoices
from {{ ref('stg_tax__invoices') }}
group by enterprise_id, month
