{{ config(materialized='table') }}

{#- One row per public mart row × raw row behind it: what `borderwatch.explain` reads to list the feed
    rows and landing files behind a figure. Keys are the marts' primary keys. -#}
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

current_raids as (

    select *
    from raid_versions
    where is_latest_version and not is_deleted

),

keyed as (

    select
        'fct_raids' as mart,
        raid_id as mart_key,
        _lineage
    from current_raids
    union all
    select
        'fct_raids_history' as mart,
        raid_id || '#' || version_number as mart_key,
        [{{ lineage_struct('rtp_raids') }}] as _lineage
    from raid_versions
    union all
    select
        'fct_raid_persons' as mart,
        raid_persons.raid_id || '|' || coalesce(raid_persons.nationality_iso3, '?') || '|' || raid_persons.sex
            as mart_key,
        current_raids._lineage
    from raid_persons
    inner join current_raids on raid_persons.raid_id = current_raids.raid_id
    union all
    select
        'fct_deportations' as mart,
        deportation_id as mart_key,
        _lineage
    from deportations
    union all
    select
        'fct_repatriations' as mart,
        repatriation_id as mart_key,
        _lineage
    from repatriations
    union all
    select
        'fct_assistance_snapshots' as mart,
        as_of_date || '|' || nationality_iso3 as mart_key,
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
