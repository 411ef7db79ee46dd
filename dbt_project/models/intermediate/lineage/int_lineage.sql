{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(claim_partitions_to_rebuild('file_sha256'), keep_prefix='dep|') }}",
    )
}}

-- depends_on: {{ ref('stg_kh_gdi__deportations') }}, {{ ref('stg_th_imm__receptions') }}
{#- One row per public mart row × raw row behind it: what `borderwatch.explain` reads to list the feed
    rows and landing files behind a figure. Keys are the marts' primary keys.
    Incremental: the lineage of fct_deportations and of deportation claims (most rows) is rebuilt only
    for the deportation partitions with new KH/TH deliveries ('dep|' + crossing|nationality|day); every other
    mart's lineage is small and rebuilt every time (macros/incremental_partitions.sql). -#}
{%- set rebuilt = none %}
{%- set dep_partitions = none %}
{%- if is_incremental() %}
    {%- set rebuilt = claim_partitions_to_rebuild('file_sha256') %}
    {%- set dep_partitions = [] %}
    {%- for partition in rebuilt %}
        {%- do dep_partitions.append(partition[4:]) %}
    {%- endfor %}
{%- endif %}

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
    {%- if dep_partitions is not none %}
    where _partition_key in {{ sql_string_list(dep_partitions) }}
    {%- endif %}

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
    {%- if rebuilt is not none %}
    where _partition_key in {{ sql_string_list(rebuilt) }} or not starts_with(_partition_key, 'dep|')
    {%- endif %}

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
    where not starts_with(_partition_key, 'dep|')

),

small_marts as (

    select distinct
        keyed.mart,
        keyed.mart_key,
        entry.feed,
        entry.raw_table,
        entry.file_sha256,
        entry.row_number,
        keyed.mart as _partition_key,
        cast(null as timestamp) as _loaded_at
    from keyed
    cross join unnest(keyed._lineage) as lineage_entries (entry)

),

{#- the two big marts need no distinct: one deportation's entries come from two raw tables, a claim has one #}

deportation_marts as (

    select
        'fct_deportations' as mart,
        deportations.deportation_id as mart_key,
        entry.feed,
        entry.raw_table,
        entry.file_sha256,
        entry.row_number,
        'dep|' || deportations._partition_key as _partition_key,
        deportations._loaded_at
    from deportations
    cross join unnest(deportations._lineage) as lineage_entries (entry)
    union all
    select
        'fct_figure_claims' as mart,
        claim_id as mart_key,
        _feed as feed,
        raw_table,
        _file_sha256 as file_sha256,
        _row_number as row_number,
        _partition_key,
        _loaded_at
    from claims
    where starts_with(_partition_key, 'dep|')

),

final as (

    select * from small_marts
    union all
    select * from deportation_marts

)

select * from final
