{#- One row per as-of date: the all-nationalities total, stated by the workbook's total row or derived
    (figure_origin) as the sum of its nationality rows when the workbook has no total row. -#}
with

snapshots as (

    select * from {{ ref('int_assistance_snapshots_resolved') }}

),

final as (

    select
        as_of_date,
        cast(persons_assisted_cumulative as bigint) as persons_assisted_cumulative,
        cast(persons_repatriated_cumulative as bigint) as persons_repatriated_cumulative,
        figure_origin,
        note,
        _loaded_at
    from snapshots
    where nationality_iso3 = 'ALL'

)

select * from final
