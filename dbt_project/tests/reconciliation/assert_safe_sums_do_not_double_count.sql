-- No mart double counts by construction: the sums the README calls safe equal the figures they stand for.
-- fct_raids counts each incident once (its people found are never below any single report's), the legs mart
-- holds legs only, and the snapshot marts hold no ALL row.
with

raids as (

    select * from {{ ref('fct_raids') }}

),

raid_reports as (

    select * from {{ ref('fct_raid_reports') }}

),

repatriations as (

    select * from {{ ref('fct_repatriations') }}

),

snapshots as (

    select * from {{ ref('fct_assistance_snapshots') }}

),

problems as (

    select 'fct_raids: incidents counted more than once' as problem
    from raids
    group by incident_id
    having count(*) > 1
    union all
    select 'fct_raid_reports: a report outside any incident' as problem
    from raid_reports
    where incident_id not in (select raids.incident_id from raids)
    union all
    select 'fct_repatriations: a non-leg row' as problem
    from repatriations
    where
        repatriation_id in (
            select movements.repatriation_id from {{ ref('int_repatriations_resolved') }} as movements
            where movements.row_type <> 'leg'
        )
    union all
    select 'fct_assistance_snapshots: an ALL row' as problem
    from snapshots
    where nationality_iso3 = 'ALL'

),

final as (

    select * from problems

)

select * from final
