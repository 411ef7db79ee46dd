with

source as (

    select * from {{ source('mfa', 'mfa_assistance_movements') }}

),

renamed as (

    select
        movement_id,
        movement_date,
        lower(trim(status)) as status,
        nullif(trim(held_in_country), '') as held_in_label,
        nullif(trim(transit_country), '') as transit_label,
        trim(destination_country) as destination_label,
        trim(nationality_label) as nationality_label,
        nullif(lower(trim(mode)), '') as mode,
        nullif(trim(departure_point), '') as departure_point_label,
        persons,
        nullif(trim(note), '') as note,
        coalesce(nullif(lower(trim(row_type)), ''), 'leg') as row_type,
        nullif(trim(plan_id), '') as plan_id,
        flights,
        persons_male,
        persons_female,
        period_start,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        {{ is_latest_delivery(['movement_id']) }} as is_latest_delivery
    from source

),

final as (

    select * from renamed

)

select * from final
