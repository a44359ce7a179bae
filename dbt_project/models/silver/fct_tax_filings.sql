-- Tax returns per enterprise and month: how many, the amount declared, whether all were zero declarations.
select
    enterprise_id,
    month,
    count(*) as returns_filed,
    cast(sum(declared_cny) as double) as declared_cny,
    bool_and(coalesce(is_zero_declaration, false)) as is_zero_declaration,
    bool_or(coalesce(is_late, false)) as is_late
from {{ ref('stg_tax__filings') }}
group by enterprise_id, month
