with

snapshots as (

    select * from {{ ref('int_assistance_snapshots_resolved') }}

),

final as (

    select
        as_of_date || '|' || nationality_iso3 as snapshot_id,
        as_of_date,
        nationality_iso3,
        nationality_iso3 = 'ALL' as is_total,
        cast(persons_assisted_cumulative as bigint) as persons_assisted_cumulative,
        cast(persons_repatriated_cumulative as bigint) as persons_repatriated_cumulative,
        _loaded_at
    from snapshots

)

select * from final
