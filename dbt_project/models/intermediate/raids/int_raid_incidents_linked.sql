{{ config(materialized='table') }}

{#- Report -> incident: an incident is a connected group of reports joined by linked pairs
    (int_raid_report_pairs_matched). incident_id is the report id of the incident's lead report: its RTP
    operation when it has one, else the smallest report id. link_rule is the strongest link the report
    takes part in (analyst_link > explicit_ref > site_date_nationality), singleton when it has none.
    figure_report_id: the report whose figures the incident publishes (rule largest_report): the one that
    found the most people (detained + rescued + arrested), ties to the lead report. All figures of an incident
    come from that one report, so detained from one agency is never added to rescued from another. -#}
with recursive

reports as (

    select * from {{ ref('int_raid_reports_unioned') }}

),

pairs as (

    select * from {{ ref('int_raid_report_pairs_matched') }}

),

edges as (

    select
        report_id_a as report_id,
        report_id_b as other_report_id,
        link_rule,
        link_reason,
        is_linked
    from pairs
    union all
    select
        report_id_b as report_id,
        report_id_a as other_report_id,
        link_rule,
        link_reason,
        is_linked
    from pairs

),

reachable (report_id, member_id) as (

    select
        report_id,
        report_id as member_id
    from reports
    union
    select
        reachable.report_id,
        edges.other_report_id as member_id
    from reachable
    inner join edges on reachable.member_id = edges.report_id
    where edges.is_linked

),

incident_of_report as (

    select
        reachable.report_id,
        arg_min(
            reachable.member_id,
            case when members.source_feed = 'rtp_raids' then '0' else '1' end || reachable.member_id
        ) as incident_id
    from reachable
    inner join reports as members on reachable.member_id = members.report_id
    group by reachable.report_id

),

links_of_report as (

    select
        report_id,
        arg_min(
            link_rule,
            case link_rule when 'analyst_link' then 1 when 'explicit_ref' then 2 else 3 end
        ) filter (where is_linked) as link_rule,
        string_agg(
            case when is_linked then 'linked to ' else 'kept apart from ' end
            || other_report_id || ' (' || link_rule || '): ' || link_reason,
            '; ' order by other_report_id
        ) as link_reason
    from edges
    group by report_id

),

figure_reports as (

    select
        incident_of_report.incident_id,
        arg_max(
            reports.report_id,
            [
                coalesce(reports.persons_detained, 0) + coalesce(reports.persons_rescued, 0)
                + coalesce(reports.suspects_arrested, 0),
                case when reports.report_id = incident_of_report.incident_id then 1 else 0 end
            ]
        ) as figure_report_id
    from reports
    inner join incident_of_report on reports.report_id = incident_of_report.report_id
    group by incident_of_report.incident_id

),

final as (

    select
        reports.report_id,
        incident_of_report.incident_id,
        figure_reports.figure_report_id,
        reports.report_id = figure_reports.figure_report_id as is_figure_report,
        reports.source_feed,
        reports.agency_id,
        coalesce(links_of_report.link_rule, 'singleton') as link_rule,
        coalesce(
            links_of_report.link_reason,
            'no other report cites it or matches its site, dates and nationalities'
        ) as link_reason
    from reports
    inner join incident_of_report on reports.report_id = incident_of_report.report_id
    inner join figure_reports on incident_of_report.incident_id = figure_reports.incident_id
    left join links_of_report on reports.report_id = links_of_report.report_id

)

select * from final
