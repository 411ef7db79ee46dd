with

reports as (

    select * from {{ ref('int_raid_reports_unioned') }}

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

final as (

    select
        reports.report_id,
        incidents.incident_id,
        reports.source_feed,
        reports.agency_id,
        reports.lead_agency_id,
        reports.date_start,
        reports.date_end,
        reports.date_precision,
        reports.country_iso3,
        reports.admin1_iso,
        reports.site_id,
        reports.site_label,
        cast(reports.persons_detained as integer) as persons_detained,
        cast(reports.persons_rescued as integer) as persons_rescued,
        cast(reports.suspects_arrested as integer) as suspects_arrested,
        'stated' as figure_origin,
        incidents.link_rule,
        incidents.link_reason,
        array_to_string(reports.refs, ', ') as refs,
        reports.notes,
        reports.first_reported_at,
        reports.last_revised_at,
        cast(reports.revision_count as integer) as revision_count,
        reports._loaded_at
    from reports
    inner join incidents on reports.report_id = incidents.report_id

)

select * from final
