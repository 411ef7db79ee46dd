with

raid_versions as (

    select * from {{ ref('int_raid_versions_resolved') }}

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

final as (

    select
        raid_versions.raid_id || '#' || raid_versions.version_number as raid_version_id,
        raid_versions.raid_id,
        incidents.incident_id,
        cast(raid_versions.version_number as integer) as version_number,
        raid_versions.valid_from,
        raid_versions.valid_to,
        raid_versions.is_latest_version as is_current,
        raid_versions.is_deleted,
        raid_versions.date_start,
        raid_versions.date_end,
        raid_versions.date_precision,
        raid_versions.country_iso3,
        raid_versions.admin1_iso,
        raid_versions.site_id,
        raid_versions.lead_agency_id,
        cast(raid_versions.persons_detained as integer) as persons_detained,
        cast(raid_versions.persons_rescued as integer) as persons_rescued,
        cast(raid_versions.suspects_arrested as integer) as suspects_arrested,
        raid_versions._loaded_at
    from raid_versions
    -- the operation's incident as linked today; a withdrawn operation (tombstone) belongs to none
    left join incidents on raid_versions.raid_id = incidents.report_id

)

select * from final
