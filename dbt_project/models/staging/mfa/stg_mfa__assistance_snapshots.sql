with

source as (

    select * from {{ source('mfa', 'mfa_assistance_snapshots') }}

),

renamed as (

    select
        as_of_date,
        trim(nationality_label) as nationality_label,
        persons_assisted_cumulative,
        persons_repatriated_cumulative,
        coalesce(is_total_row, false) as is_total_row,
        nullif(trim(note), '') as note,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        {{ is_latest_delivery(['as_of_date', 'nationality_label']) }} as is_latest_delivery
    from source

),

final as (

    select * from renamed

)

select * from final
