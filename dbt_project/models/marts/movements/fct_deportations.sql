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
    where {{ partitions_loaded_since_last_build() }}

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
        raid_id,
        reported_by,
        has_conflict,
        cast(sending_persons_total as integer) as sending_persons_total,
        cast(receiving_persons_total as integer) as receiving_persons_total,
        _partition_key,
        _loaded_at
    from deportations

)

select * from final
