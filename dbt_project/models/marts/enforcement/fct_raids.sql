{#- One row per incident. Figure rule (largest_report): detained, rescued and arrested all come from ONE
    report, the one that found the most people (int_raid_incidents_linked.figure_report_id), so figures of
    two agencies are never mixed or added; every report's own figures stay in fct_raid_reports and every
    disagreement is a row of fct_reconciliation. Place, date precision and lead agency: the lead report. -#}
with

reports as (

    select * from {{ ref('int_raid_reports_unioned') }}

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

deportations as (

    select * from {{ ref('int_deportations_matched') }}

),

checks as (

    select * from {{ ref('int_reconciliation_checks_unioned') }}

),

incident_reports as (

    select
        incidents.incident_id,
        incidents.is_figure_report,
        reports.*
    from reports
    inner join incidents on reports.report_id = incidents.report_id

),

resolved as (

    select
        incident_id,
        min(date_start) as date_start,
        max(date_end) as date_end,
        any_value(date_precision) filter (where report_id = incident_id) as date_precision,
        coalesce(any_value(country_iso3) filter (where report_id = incident_id), any_value(country_iso3))
            as country_iso3,
        coalesce(any_value(admin1_iso) filter (where report_id = incident_id), any_value(admin1_iso))
            as admin1_iso,
        coalesce(any_value(site_id) filter (where report_id = incident_id), any_value(site_id)) as site_id,
        any_value(lead_agency_id) filter (where report_id = incident_id) as lead_agency_id,
        any_value(persons_detained) filter (where is_figure_report) as persons_detained,
        any_value(persons_rescued) filter (where is_figure_report) as persons_rescued,
        any_value(suspects_arrested) filter (where is_figure_report) as suspects_arrested,
        any_value(report_id) filter (where is_figure_report) as figure_report_id,
        count(*) as report_count,
        string_agg(distinct agency_id, ', ' order by agency_id) as reported_by,
        string_agg(report_id, ', ' order by report_id) as report_ids,
        count(distinct source_feed) as report_feeds,
        min(first_reported_at) as first_reported_at,
        max(last_revised_at) as last_revised_at,
        max(revision_count) filter (where report_id = incident_id) as revision_count,
        string_agg(agency_id || ': ' || notes, ' | ' order by report_id) filter (where notes is not null) as notes,
        max(_loaded_at) as _loaded_at
    from incident_reports
    group by incident_id

),

linked_sources as (

    select
        incident_id,
        count(distinct case when reported_by in ('sending', 'both') then 'kh_gdi_deportations' end)
        + count(distinct case when reported_by in ('receiving', 'both') then 'th_imm_receptions' end)
            as linked_feeds
    from deportations
    where incident_id is not null
    group by incident_id

),

conflicts as (

    select
        subject_id as incident_id,
        string_agg(distinct rule, ', ' order by rule) as conflict_rules
    from checks
    where
        subject_type = 'incident'
        and status = 'conflict'
        and rule in ('raid_reports_disagree', 'breakdown_vs_total', 'raid_vs_deportation')
    group by subject_id

),

final as (

    select
        resolved.incident_id,
        resolved.date_start,
        resolved.date_end,
        resolved.date_precision,
        resolved.country_iso3,
        resolved.admin1_iso,
        resolved.site_id,
        resolved.lead_agency_id,
        cast(resolved.persons_detained as integer) as persons_detained,
        cast(resolved.persons_rescued as integer) as persons_rescued,
        cast(resolved.suspects_arrested as integer) as suspects_arrested,
        'stated' as figure_origin,
        case when resolved.report_count > 1 then 'largest_report' else 'single_report' end as figure_rule,
        resolved.figure_report_id,
        cast(resolved.report_count as integer) as report_count,
        resolved.reported_by,
        resolved.report_ids,
        cast(resolved.report_feeds + coalesce(linked_sources.linked_feeds, 0) as integer) as source_count,
        resolved.first_reported_at,
        resolved.last_revised_at,
        cast(resolved.revision_count as integer) as revision_count,
        conflicts.incident_id is not null as has_conflict,
        conflicts.conflict_rules,
        resolved.notes,
        resolved._loaded_at
    from resolved
    left join linked_sources on resolved.incident_id = linked_sources.incident_id
    left join conflicts on resolved.incident_id = conflicts.incident_id

)

select * from final
