{#- Person breakdown cells of every current raid report (RTP operation, KH-NCCT report), one row per
    report × nationality × sex × age group. A cell whose sex or age label is none of the accepted labels is
    kept apart (label_issue set, sex / age_group NULL): it never enters a fact and fct_reconciliation lists
    it under rule unknown_label. A KH-NCCT report's cells come from the newest file that delivered it. -#}
with

rtp_raids as (

    select * from {{ ref('stg_rtp__raids') }}

),

ncct_lines as (

    select * from {{ ref('stg_kh_ncct__raid_lines') }}

),

rtp_cells as (

    select
        rtp_raids.raid_id as report_id,
        'rtp_raids' as source_feed,
        rtp_raids._loaded_at,
        {{ lineage_struct('rtp_raids') }} as lineage,
        unnest(
            from_json(
                rtp_raids.nationality_breakdown,
                '[{"nationality": "VARCHAR", "sex": "VARCHAR", "age_group": "VARCHAR", "count": "BIGINT"}]'
            )
        ) as part
    from rtp_raids
    where rtp_raids.nationality_breakdown is not null

),

rtp_resolved as (

    select
        report_id,
        source_feed,
        part.nationality as nationality_label,
        part.sex as sex_label,
        part.age_group as age_group_label,
        {{ sex_code('part.sex') }} as sex,
        {{ age_group_code('part.age_group') }} as age_group,
        part.count as persons,
        _loaded_at,
        lineage
    from rtp_cells

),

ncct_newest_file as (

    select
        report_id,
        arg_max(_file_sha256, _loaded_at) as newest_file_sha256
    from ncct_lines
    group by report_id

),

ncct_resolved as (

    select
        ncct_lines.report_id,
        'kh_ncct_raids' as source_feed,
        ncct_lines.nationality_label,
        ncct_lines.sex as sex_label,
        ncct_lines.age_group as age_group_label,
        coalesce(ncct_lines.sex, 'U') as sex,
        coalesce(ncct_lines.age_group, 'unknown') as age_group,
        ncct_lines.persons,
        ncct_lines._loaded_at,
        {{ lineage_struct('kh_ncct_raids') }} as lineage
    from ncct_lines
    inner join ncct_newest_file
        on
            ncct_lines.report_id = ncct_newest_file.report_id
            and ncct_lines._file_sha256 = ncct_newest_file.newest_file_sha256
    where ncct_lines.nationality_label is not null or ncct_lines.persons is not null

),

unioned_cells as (

    select * from rtp_resolved
    union all
    select * from ncct_resolved

),

cells as (

    select
        *,
        {{ country_iso3('nationality_label') }} as nationality_iso3,
        case
            when sex is null
                then 'unknown sex label ''' || sex_label || ''' (accepted: M, F, U, blank)'
            when age_group is null
                then 'unknown age label ''' || age_group_label || ''' (accepted: adult, minor, unknown, blank)'
        end as label_issue
    from unioned_cells

),

final as (

    select
        report_id,
        source_feed,
        nationality_iso3,
        sex,
        age_group,
        label_issue,
        string_agg(distinct nationality_label, ' | ' order by nationality_label) as nationality_labels,
        string_agg(distinct coalesce(sex_label, '') || '/' || coalesce(age_group_label, ''), ' | ')
            as cell_labels,
        sum(persons) as persons,
        max(_loaded_at) as _loaded_at,
        list(lineage) as _lineage
    from cells
    group by report_id, source_feed, nationality_iso3, sex, age_group, label_issue

)

select * from final
