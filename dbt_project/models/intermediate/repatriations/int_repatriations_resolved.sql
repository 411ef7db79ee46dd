{#- Current version of each MFA movement leg with countries, nationality and departure site resolved.
    A flight leaves from an airport, a road or bridge leg from a crossing: "Mae Sot" means either. -#}
with

movements as (

    select * from {{ ref('stg_mfa__assistance_movements') }}
    where is_latest_delivery

),

resolved as (

    select
        movement_id as repatriation_id,
        movement_date,
        status,
        {{ country_iso3('held_in_label') }} as held_in_country_iso3,
        {{ country_iso3('transit_label') }} as transit_country_iso3,
        {{ country_iso3('destination_label') }} as destination_country_iso3,
        {{ country_iso3('nationality_label') }} as nationality_iso3,
        nationality_label,
        mode,
        case
            when mode = 'flight' then {{ site_id('departure_point_label', ['airport', 'border_crossing']) }}
            else {{ site_id('departure_point_label', ['border_crossing', 'airport']) }}
        end as departure_site_id,
        departure_point_label,
        persons,
        _loaded_at,
        [{{ lineage_struct('mfa_assistance_movements') }}] as _lineage
    from movements

),

final as (

    select * from resolved

)

select * from final
