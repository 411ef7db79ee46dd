{#- One row per period total an agency states (row_type period_total): its own grain, never a leg. -#}
with

repatriations as (

    select * from {{ ref('int_repatriations_resolved') }}
    where row_type = 'period_total'

),

final as (

    select
        repatriation_id as period_id,
        coalesce(period_start, movement_date) as period_start,
        movement_date as period_end,
        status,
        held_in_country_iso3,
        destination_country_iso3,
        nationality_iso3,
        mode,
        departure_site_id,
        cast(persons as integer) as persons,
        cast(flights as integer) as flights,
        'stated' as figure_origin,
        note,
        _loaded_at
    from repatriations

)

select * from final
