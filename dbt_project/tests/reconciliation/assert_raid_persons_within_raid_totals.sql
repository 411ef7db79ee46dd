-- Parts vs total: a raid's nationality breakdown must not name more people than were detained plus
-- rescued, unless fct_raids flags the raid with has_conflict (flag, never fix silently).
with

raid_persons as (

    select * from {{ ref('int_raid_persons_unnested') }}

),

raids as (

    select * from {{ ref('fct_raids') }}

),

breakdown as (

    select
        raid_id,
        sum(persons) as breakdown_persons
    from raid_persons
    group by raid_id

),

final as (

    select
        raids.raid_id,
        breakdown.breakdown_persons,
        raids.persons_detained,
        raids.persons_rescued
    from raids
    inner join breakdown on raids.raid_id = breakdown.raid_id
    where
        breakdown.breakdown_persons
        > coalesce(raids.persons_detained, 0) + coalesce(raids.persons_rescued, 0)
        and not raids.has_conflict

)

select * from final
