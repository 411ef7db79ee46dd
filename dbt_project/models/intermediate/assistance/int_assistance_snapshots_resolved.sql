{#- One row per as-of date × nationality from the newest workbook that reports that as-of date.
    The workbook's own total row becomes nationality 'ALL' (figure_origin stated); without one, ALL is the
    sum of the nationality rows (figure_origin derived). -#}
with

snapshots as (

    select * from {{ ref('stg_mfa__assistance_snapshots') }}

),

newest_file as (

    select
        as_of_date,
        arg_max(_file_sha256, _loaded_at) as _file_sha256
    from snapshots
    group by as_of_date

),

rows_in_newest_file as (

    select
        snapshots.*,
        case
            when snapshots.is_total_row then 'ALL'
            else {{ country_iso3('snapshots.nationality_label') }}
        end as nationality_iso3
    from snapshots
    inner join newest_file
        on
            snapshots.as_of_date = newest_file.as_of_date
            and snapshots._file_sha256 = newest_file._file_sha256

),

by_nationality as (

    select
        as_of_date,
        nationality_iso3,
        string_agg(nationality_label, ' | ' order by nationality_label) as nationality_labels,
        sum(persons_assisted_cumulative) as persons_assisted_cumulative,
        sum(persons_repatriated_cumulative) as persons_repatriated_cumulative,
        'stated' as figure_origin,
        string_agg(note, ' | ' order by note) as note,
        max(_loaded_at) as _loaded_at,
        list({{ lineage_struct('mfa_assistance_snapshots') }}) as _lineage
    from rows_in_newest_file
    group by as_of_date, nationality_iso3

),

computed_totals as (

    select
        as_of_date,
        'ALL' as nationality_iso3,
        'sum of nationality rows (no total row)' as nationality_labels,
        sum(persons_assisted_cumulative) as persons_assisted_cumulative,
        sum(persons_repatriated_cumulative) as persons_repatriated_cumulative,
        'derived' as figure_origin,
        cast(null as varchar) as note,
        max(_loaded_at) as _loaded_at,
        flatten(list(_lineage)) as _lineage
    from by_nationality
    where
        as_of_date not in (
            select with_total.as_of_date from by_nationality as with_total
            where with_total.nationality_iso3 = 'ALL'
        )
    group by as_of_date

),

final as (

    select * from by_nationality
    union all
    select * from computed_totals

)

select * from final
