with

repatriations as (

    select * from {{ ref('int_repatriations_resolved') }}

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
        _loaded_at
    from repatriations

)

select * from final
