{{ config(materialized='table') }}

{#- One row per public mart row × raw row behind it: what `borderwatch.explain` reads to list the feed
    rows and landing files behind a figure. Keys are the marts' primary keys. -#}
with

raid_versions as (

    select * from {{ ref('int_raid_versions_resolved') }}

),

raid_reports as (

    select * from {{ ref('int_raid_reports_unioned') }}

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

raid_persons as (

    select * from {{ ref('int_raid_persons_unnested') }}

),

deportations as (

    select * from {{ ref('int_deportations_matched') }}

),

repatriations as (

    select * from {{ ref('int_repatriations_resolved') }}

),

snapshots as (

    select * from {{ ref('int_assistance_snapshots_resolved') }}

),

telecom as (

    select * from {{ ref('int_telecom_actions_resolved') }}

),

claims as (

    select * from {{ ref('int_figure_claims_unioned') }}

),

keyed as (

    select
        'fct_raids' as mart,
        incidents.incident_id as mart_key,
        raid_reports._lineage
    from raid_reports
    inner join incidents on raid_reports.report_id = incidents.report_id
    union all
    select
        'fct_raid_reports' as mart,
        report_id as mart_key,
        _lineage
    from raid_reports
    union all
    select
        'fct_raids_history' as mart,
        raid_id || '#' || version_number as mart_key,
        [{{ lineage_struct('rtp_raids') }}] as _lineage
    from raid_versions
    union all
    select
        'fct_raid_persons' as mart,
        incidents.incident_id || '|' || coalesce(raid_persons.nationality_iso3, '?') || '|' || raid_persons.sex
        || '|' || raid_persons.age_group as mart_key,
        raid_persons._lineage
    from raid_persons
    inner join incidents on raid_persons.report_id = incidents.report_id
    where raid_persons.label_issue is null
    union all
    select
        'fct_deportations' as mart,
        deportation_id as mart_key,
        _lineage
    from deportations
    union all
    select
        case row_type
            when 'plan' then 'fct_repatriation_plans'
            when 'period_total' then 'fct_repatriation_periods'
            else 'fct_repatriations'
        end as mart,
        case when row_type = 'plan' then plan_id else repatriation_id end as mart_key,
        _lineage
    from repatriations
    union all
    select
        case when nationality_iso3 = 'ALL' then 'fct_assistance_totals' else 'fct_assistance_snapshots' end as mart,
        case
            when nationality_iso3 = 'ALL' then cast(as_of_date as varchar)
            else as_of_date || '|' || nationality_iso3
        end as mart_key,
        _lineage
    from snapshots
    union all
    select
        'fct_telecom_actions' as mart,
        telecom_action_id as mart_key,
        _lineage
    from telecom
    union all
    select
        'fct_figure_claims' as mart,
        claim_id as mart_key,
        [{ 'feed': _feed, 'raw_table': raw_table, 'file_sha256': _file_sha256, 'row_number': _row_number }]
            as _lineage
    from claims

),

final as (

    select distinct
        keyed.mart,
        keyed.mart_key,
        entry.feed,
        entry.raw_table,
        entry.file_sha256,
        entry.row_number
    from keyed
    cross join unnest(keyed._lineage) as lineage_entries (entry)

)

select * from final
