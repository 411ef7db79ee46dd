with

source as (

    select * from {{ source('th_imm', 'th_imm_receptions') }}

),

renamed as (

    select
        reception_no,
        received_date,
        received_date_raw,
        trim(checkpoint) as checkpoint_label,
        trim(nationality) as nationality_label,
        male as persons_male,
        female as persons_female,
        total as persons_total,
        nullif(trim(from_country), '') as from_country_label,
        nullif(trim(tm35_no), '') as tm35_no,
        minors as persons_minor,
        nullif(trim(remarks), '') as remarks,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        {{ is_latest_delivery(['reception_no']) }} as is_latest_delivery
    from source

),

final as (

    select * from renamed

)

select * from final
