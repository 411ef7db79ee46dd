{#- Legs only (row_type leg): plans are in fct_repatriation_plans and period totals in
    fct_repatriation_periods, so a SUM over executed legs never adds a period or a plan to its legs. -#}
with

repatriations as (

    select * from {{ ref('int_repatriations_resolved') }}
    where row_type = 'leg'

),

final as (

    select
        repatriation_id,
        movement_date,
        status,
        held_in_country_iso3,
        transit_country_iso3,
        destination_country_iso3,
        nationality_iso3,
        mode,
        departure_site_id,
        cast(persons as integer) as persons,
        cast(persons_male as integer) as persons_male,
        cast(persons_female as integer) as persons_female,
        cast(flights as integer) as flights,
        plan_id,
        'stated' as figure_origin,
        note,
        _loaded_at
    from repatriations

)

select * from final
