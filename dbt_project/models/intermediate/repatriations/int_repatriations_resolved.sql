{#- Current version of each MFA Movements row (a leg, a plan or a period total: row_type) with countries,
    nationality and departure site resolved. A flight leaves from an airport, a road or bridge leg from a
    crossing: "Mae Sot" means either. The marts split the row types into their own grains. -#}
with

movements as (

    select * from {{ ref('stg_mfa__assistance_movements') }}
    where is_latest_delivery

),

resolved as (

    select
        movement_id as repatriation_id,
        row_type,
        coalesce(plan_id, case when row_type = 'plan' then movement_id end) as plan_id,
        movement_date,
        period_start,
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
        persons_male,
        persons_female,
        flights,
        note,
        _feed,
        _file_sha256,
        _row_number,
        _loaded_at,
        [{{ lineage_struct('mfa_assistance_movements') }}] as _lineage
    from movements

),

sites as (

    select * from {{ ref('sites') }}

),

final as (

    select
        resolved.*,
        sites.admin1_iso as departure_admin1_iso
    from resolved
    left join sites on resolved.departure_site_id = sites.site_id

)

select * from final
