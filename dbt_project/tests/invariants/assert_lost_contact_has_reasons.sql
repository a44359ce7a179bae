-- Every listed enterprise carries at least one reason, and only enterprises that exist are listed.
select lost.*
from {{ ref('mart_lost_contact') }} as lost
left join {{ ref('int_enterprises_registered') }} as enterprises on enterprises.enterprise_id = lost.enterprise_id
where size(lost.reasons) = 0 or enterprises.enterprise_id is null or enterprises.deregistered_on is not null
