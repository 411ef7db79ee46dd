{#- One row per repatriation plan (row_type plan) with what its scheduled and executed legs add up to.
    persons_planned / flights_planned are stated; the scheduled_* and executed_* columns are derived from the
    legs carrying the plan's plan_id (a scheduled leg without a flight count counts as one flight:
    scheduled_flights_origin = inferred). -#}
with

repatriations as (

    select * from {{ ref('int_repatriations_resolved') }}

),

plans as (

    select * from repatriations
    where row_type = 'plan'

),

legs as (

    select
        plan_id,
        count(*) filter (where status = 'scheduled') as scheduled_legs,
        sum(coalesce(flights, 1)) filter (where status = 'scheduled') as scheduled_flights,
        bool_or(flights is null) filter (where status = 'scheduled') as has_inferred_flights,
        sum(persons) filter (where status = 'scheduled') as scheduled_persons,
        count(*) filter (where status = 'executed') as executed_legs,
        sum(persons) filter (where status = 'executed') as executed_persons,
        sum(flights) filter (where status = 'executed') as executed_flights
    from repatriations
    where
        row_type = 'leg'
        and plan_id is not null
    group by plan_id

),

final as (

    select
        plans.plan_id,
        plans.movement_date as plan_date,
        plans.held_in_country_iso3,
        plans.destination_country_iso3,
        plans.nationality_iso3,
        plans.mode,
        plans.departure_site_id,
        cast(plans.persons as integer) as persons_planned,
        cast(plans.flights as integer) as flights_planned,
        'stated' as figure_origin,
        cast(coalesce(legs.scheduled_legs, 0) as integer) as scheduled_legs,
        cast(legs.scheduled_flights as integer) as scheduled_flights,
        case
            when legs.has_inferred_flights then 'inferred' when legs.scheduled_flights is not null then 'derived'
        end as scheduled_flights_origin,
        cast(legs.scheduled_persons as integer) as scheduled_persons,
        cast(coalesce(legs.executed_legs, 0) as integer) as executed_legs,
        cast(legs.executed_persons as integer) as executed_persons,
        cast(legs.executed_flights as integer) as executed_flights,
        plans.note,
        plans._loaded_at
    from plans
    left join legs on plans.plan_id = legs.plan_id
    qualify row_number() over (partition by plans.plan_id order by plans._loaded_at desc, plans.repatriation_id asc) = 1

)

select * from final
