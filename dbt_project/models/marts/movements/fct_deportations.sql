{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='_partition_key',
        on_schema_change='fail',
    )
}}

with

deportations as (

    select * from {{ ref('int_deportations_matched') }}
    -- batches citing a raid are rebuilt every time: the raid's incident can change without a new load
    where {{ partitions_loaded_since_last_build() }} or _partition_key in (
        select cited._partition_key from {{ ref('int_deportations_matched') }} as cited
        where cited.raid_ref is not null
    )

),

final as (

    select
        deportation_id,
        handover_date,
        received_date,
        from_country_iso3,
        to_country_iso3,
        crossing_site_id,
        nationality_iso3,
        cast(persons_total as integer) as persons_total,
        -- k = 11: a sex split with a cell under 11 is hidden whole (the total would reveal the other cell)
        cast(case when least(persons_male, persons_female) < 11 then null else persons_male end as integer)
            as persons_male,
        cast(case when least(persons_male, persons_female) < 11 then null else persons_female end as integer)
            as persons_female,
        coalesce(least(persons_male, persons_female) < 11, false) as is_suppressed,
        -- k = 11: a minors count under 11 is never published
        cast(case when persons_minor < 11 then null else persons_minor end as integer) as persons_minor,
        coalesce(persons_minor < 11, false) as is_minor_suppressed,
        'stated' as figure_origin,
        raid_report_id,
        incident_id,
        reported_by,
        has_conflict,
        cast(sending_persons_total as integer) as sending_persons_total,
        cast(receiving_persons_total as integer) as receiving_persons_total,
        notes,
        _partition_key,
        _loaded_at
    from deportations

)

select * from final
