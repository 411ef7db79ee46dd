{#- k = 11 suppression: a cell under 11 people is hidden (primary); when exactly one cell of a raid is
    hidden, the next smallest cell of that raid is hidden too (secondary), so the raid total cannot
    reveal it. -#}
with

raid_persons as (

    select * from {{ ref('int_raid_persons_unnested') }}

),

flagged as (

    select
        *,
        persons < 11 as is_primary_suppressed
    from raid_persons

),

counted as (

    select
        *,
        count(*) filter (where is_primary_suppressed) over (partition by raid_id) as primary_cells,
        row_number() over (
            partition by raid_id, is_primary_suppressed
            order by persons, nationality_iso3, sex
        ) as rank_by_size
    from flagged

),

suppressed as (

    select
        *,
        is_primary_suppressed
        or (primary_cells = 1 and not is_primary_suppressed and rank_by_size = 1) as is_suppressed
    from counted

),

final as (

    select
        raid_id || '|' || coalesce(nationality_iso3, '?') || '|' || sex as raid_person_id,
        raid_id,
        nationality_iso3,
        sex,
        cast(case when is_suppressed then null else persons end as integer) as persons,
        is_suppressed
    from suppressed

)

select * from final
