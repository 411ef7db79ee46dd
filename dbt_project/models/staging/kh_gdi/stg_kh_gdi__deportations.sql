with

source as (

    select * from {{ source('kh_gdi', 'kh_gdi_deportations') }}

),

renamed as (

    select
        bulletin_no,
        line_no,
        handover_date,
        handover_date_raw,
        trim(checkpoint) as checkpoint_label,
        nullif(trim(province), '') as province_label,
        trim(nationality) as nationality_label,
        male as persons_male,
        female as persons_female,
        total as persons_total,
        nullif(trim(destination_country), '') as destination_label,
        minors as persons_minor,
        nullif(trim(remarks), '') as remarks,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        {{ is_latest_delivery(['bulletin_no', 'line_no']) }} as is_latest_delivery
    from source

),

final as (

    select * from renamed

)

select * from final
