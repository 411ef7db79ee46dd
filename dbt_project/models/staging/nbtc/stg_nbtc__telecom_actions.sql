with

source as (

    select * from {{ source('nbtc', 'nbtc_telecom') }}

),

renamed as (

    select
        month as month_start,
        month_raw,
        trim(province) as province_label,
        upper(trim(province)) = 'ALL' as is_national,
        lower(trim(action_type)) as action_type,
        count as action_count,
        reported_at,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        {{ is_latest_delivery(['month', 'province', 'action_type']) }} as is_latest_delivery
    from source

),

final as (

    select * from renamed

)

select * from final
