with

raid_versions as (

    select * from {{ ref('int_raid_versions_resolved') }}

),

raid_persons as (

    select * from {{ ref('int_raid_persons_unnested') }}

),

deportations as (

    select * from {{ ref('int_deportations_matched') }}

),

current_raids as (

    select *
    from raid_versions
    where is_latest_version and not is_deleted

),

breakdown_totals as (

    select
        raid_id,
        sum(persons) as breakdown_persons
    from raid_persons
    group by raid_id

),

linked_sources as (

    select
        raid_id,
        count(distinct case when reported_by in ('sending', 'both') then 'kh_gdi_deportations' end)
        + count(distinct case when reported_by in ('receiving', 'both') then 'th_imm_receptions' end)
            as linked_feeds
    from deportations
    where raid_id is not null
    group by raid_id

),

final as (

    select
        current_raids.raid_id,
        current_raids.date_start,
        current_raids.date_end,
        current_raids.date_precision,
        current_raids.country_iso3,
        current_raids.admin1_iso,
        current_raids.site_id,
        current_raids.lead_agency_id,
        cast(current_raids.persons_detained as integer) as persons_detained,
        cast(current_raids.persons_rescued as integer) as persons_rescued,
        cast(current_raids.suspects_arrested as integer) as suspects_arrested,
        cast(1 + coalesce(linked_sources.linked_feeds, 0) as integer) as source_count,
        current_raids.first_reported_at,
        current_raids.last_revised_at,
        cast(current_raids.version_number as integer) as revision_count,
        -- parts vs total: the nationality breakdown names more people than were detained and rescued
        coalesce(
            breakdown_totals.breakdown_persons
            > coalesce(current_raids.persons_detained, 0) + coalesce(current_raids.persons_rescued, 0),
            false
        ) as has_conflict
    from current_raids
    left join breakdown_totals on current_raids.raid_id = breakdown_totals.raid_id
    left join linked_sources on current_raids.raid_id = linked_sources.raid_id

)

select * from final
