-- Loan-default flags answered by the People's Bank at source (数据不出域): the rows never leave the bank; the lake
-- asked about every enterprise it knows and got back three flags each (docs/secret-queries.md).
with source as (
    select * from {{ silver_source('pboc', 'pboc__loan_default_flags') }}
)

select
    uscc as enterprise_id,
    month,
    has_overdue_loan,
    overdue_over_90_days,
    non_performing,
    answer_sha256
from source
