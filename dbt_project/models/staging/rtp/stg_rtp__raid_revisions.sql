with

source as (

    select * from {{ source('rtp', 'rtp_raids') }}

),

renamed as (

    select
        operation_id as raid_id,
        updated_at,
        coalesce(is_deleted, false) as is_deleted,
        report_date,
        operation_date as date_start,
        operation_date_raw as date_start_raw,
        coalesce(operation_end_date, operation_date) as date_end,
        coalesce(lower(trim(date_precision)), case when not coalesce(is_deleted, false) then 'day' end)
            as date_precision,
        nullif(trim(country), '') as country_label,
        nullif(trim(province), '') as province_label,
        nullif(trim(district), '') as district_label,
        nullif(trim(site_name), '') as site_label,
        nullif(trim(lead_agency), '') as lead_agency_label,
        persons_detained,
        persons_rescued,
        suspects_arrested,
        nationality_breakdown,
        nullif(trim(summary), '') as summary,
        related_reports,
        _feed,
        _file_sha256,
        _row_number,
        _load_id,
        _loaded_at,
        _normalisations,
        row_number() over (partition by operation_id order by updated_at, _loaded_at) as version_number,
        {{ is_latest_delivery(['operation_id'], 'updated_at desc, _loaded_at desc, _row_number desc') }}
            as is_latest_version
    from source

),

final as (

    select * from renamed

)

select * from final
