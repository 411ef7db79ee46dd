{#- The current version's nationality breakdown, one row per raid × nationality × sex (sex U = not given). -#}
with

raids as (

    select * from {{ ref('stg_rtp__raids') }}

),

unnested as (

    select
        raids.raid_id,
        raids._loaded_at,
        unnest(
            from_json(
                raids.nationality_breakdown,
                '[{"nationality": "VARCHAR", "sex": "VARCHAR", "count": "BIGINT"}]'
            )
        ) as part
    from raids
    where raids.nationality_breakdown is not null

),

resolved as (

    select
        raid_id,
        _loaded_at,
        part.nationality as nationality_label,
        {{ country_iso3('part.nationality') }} as nationality_iso3,
        {{ sex_code('part.sex') }} as sex,
        part.count as persons
    from unnested

),

final as (

    select
        raid_id,
        nationality_iso3,
        sex,
        string_agg(distinct nationality_label, ' | ' order by nationality_label) as nationality_labels,
        sum(persons) as persons,
        max(_loaded_at) as _loaded_at
    from resolved
    group by raid_id, nationality_iso3, sex

)

select * from final
