{{ config(materialized='table') }}

{#- One row per current agency report of a raid: the latest live version of each RTP operation and each
    KH-NCCT report (its lines collapsed; raid-level figures repeat on every line). Places and agencies are
    resolved to codes; refs holds the report's explicit references to other reports; nationalities the
    verified nationalities of its breakdown (the evidence the linking rule compares). -#}
with

raid_versions as (

    select * from {{ ref('int_raid_versions_resolved') }}

),

ncct_lines as (

    select * from {{ ref('stg_kh_ncct__raid_lines') }}

),

persons as (

    select * from {{ ref('int_raid_persons_unnested') }}

),

sites as (

    select * from {{ ref('sites') }}

),

rtp_reports as (

    select
        raid_id as report_id,
        'rtp_raids' as source_feed,
        'RTP' as agency_id,
        lead_agency_id,
        date_start,
        date_end,
        date_precision,
        country_iso3,
        admin1_iso,
        site_id,
        site_label,
        persons_detained,
        persons_rescued,
        suspects_arrested,
        coalesce(
            list_filter(from_json(related_reports, '["VARCHAR"]'), lambda ref: nullif(trim(ref), '') is not null),
            []
        ) as refs,
        summary as notes,
        first_reported_at,
        last_revised_at,
        version_number as revision_count,
        _loaded_at,
        _lineage
    from raid_versions
    where
        is_latest_version
        and not is_deleted

),

ncct_newest_file as (

    select
        report_id,
        arg_max(_file_sha256, _loaded_at) as newest_file_sha256
    from ncct_lines
    group by report_id

),

ncct_current as (

    select ncct_lines.*
    from ncct_lines
    inner join ncct_newest_file
        on
            ncct_lines.report_id = ncct_newest_file.report_id
            and ncct_lines._file_sha256 = ncct_newest_file.newest_file_sha256

),

ncct_collapsed as (

    select
        report_id,
        min(raid_date) as date_start,
        max(raid_date) as date_end,
        max(province_label) as province_label,
        max(site_label) as site_label,
        max(persons_detained) as persons_detained,
        max(persons_rescued) as persons_rescued,
        max(suspects_arrested) as suspects_arrested,
        list(distinct ref) filter (where ref is not null) as refs,
        string_agg(distinct summary, ' | ') as notes,
        min(_loaded_at) as first_reported_at,
        max(_loaded_at) as _loaded_at,
        list({{ lineage_struct('kh_ncct_raids') }}) as _lineage
    from ncct_current
    group by report_id

),

ncct_resolved as (

    select
        ncct_collapsed.*,
        {{ site_id('ncct_collapsed.site_label', ['scam_compound', 'border_crossing', 'airport']) }} as site_id
    from ncct_collapsed

),

ncct_reports as (

    select
        ncct_resolved.report_id,
        'kh_ncct_raids' as source_feed,
        'KH-NCCT' as agency_id,
        'KH-NCCT' as lead_agency_id,
        ncct_resolved.date_start,
        ncct_resolved.date_end,
        'day' as date_precision,
        'KHM' as country_iso3,
        coalesce({{ admin1_iso('ncct_resolved.province_label', "'KHM'") }}, sites.admin1_iso) as admin1_iso,
        ncct_resolved.site_id,
        ncct_resolved.site_label,
        ncct_resolved.persons_detained,
        ncct_resolved.persons_rescued,
        ncct_resolved.suspects_arrested,
        coalesce(ncct_resolved.refs, []) as refs,
        ncct_resolved.notes,
        cast(ncct_resolved.first_reported_at as timestamp) as first_reported_at,
        cast(ncct_resolved._loaded_at as timestamp) as last_revised_at,
        1 as revision_count,
        ncct_resolved._loaded_at,
        ncct_resolved._lineage
    from ncct_resolved
    left join sites on ncct_resolved.site_id = sites.site_id

),

unioned as (

    select * from rtp_reports
    union all by name
    select * from ncct_reports

),

nationalities as (

    select
        report_id,
        list(distinct nationality_iso3 order by nationality_iso3) as nationalities,
        sum(persons) as breakdown_persons
    from persons
    where
        label_issue is null
        and nationality_iso3 is not null
        and nationality_iso3 not in ('XXU', 'ALL')
    group by report_id

),

final as (

    select
        unioned.*,
        coalesce(nationalities.nationalities, []) as nationalities
    from unioned
    left join nationalities on unioned.report_id = nationalities.report_id

)

select * from final
