with

source as (

    select * from {{ source('kh_ncct', 'kh_ncct_raids') }}

),

renamed as (

    select
        trim(report_id) as report_id,
        line_no,
        raid_date,
        raid_date_raw,
        nullif(trim(province), '') as province_label,
        nullif(trim(site_name), '') as site_label,
        persons_rescued,
        persons_detained,
        suspects_arrested,
        nullif(trim(nationality), '') as nationality_label,
        sex,
        age_group,
        persons,
        nullif(trim(ref), '') as ref,
        nullif(trim(summary), '') as summary,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        {{ is_latest_delivery(['report_id', 'line_no']) }} as is_latest_delivery
    from source

),

final as (

    select * from renamed

)

select * from final
