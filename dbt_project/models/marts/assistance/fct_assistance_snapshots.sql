{#- Nationality rows only: the ALL rows live in fct_assistance_totals, so a SUM within one as_of_date
    never adds a total to its own parts. -#}
with

snapshots as (

    select * from {{ ref('int_assistance_snapshots_resolved') }}

),

final as (

    select
        as_of_date || '|' || nationality_iso3 as snapshot_id,
        as_of_date,
        nationality_iso3,
        cast(persons_assisted_cumulative as bigint) as persons_assisted_cumulative,
        cast(persons_repatriated_cumulative as bigint) as persons_repatriated_cumulative,
        figure_origin,
        note,
        _loaded_at
    from snapshots
    where nationality_iso3 <> 'ALL'

)

select * from final
