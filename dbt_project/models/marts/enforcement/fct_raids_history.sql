with

raid_versions as (

    select * from {{ ref('int_raid_versions_resolved') }}

),

final as (

    select
        raid_id || '#' || version_number as raid_version_id,
        raid_id,
        cast(version_number as integer) as version_number,
        valid_from,
        valid_to,
        is_latest_version as is_current,
        is_deleted,
        date_start,
        date_end,
        date_precision,
        country_iso3,
        admin1_iso,
        site_id,
        lead_agency_id,
        cast(persons_detained as integer) as persons_detained,
        cast(persons_rescued as integer) as persons_rescued,
        cast(suspects_arrested as integer) as suspects_arrested,
        _loaded_at
    from raid_versions

)

select * from final
