{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(fct_deportations_partitions_to_rebuild()) }}",
    )
}}

-- depends_on: {{ ref('stg_kh_gdi__deportations') }}, {{ ref('stg_th_imm__receptions') }}
{#- Incremental: a night rebuilds the partitions (crossing|nationality|day) around new KH/TH deliveries since
    the last build and those where a raid link changed (macros/incremental_partitions.sql). -#}
{%- set rebuilt = fct_deportations_partitions_to_rebuild() if is_incremental() else none %}

with

deportations as (

    select * from {{ ref('int_deportations_matched') }}
    {%- if rebuilt is not none %}
    where _partition_key in {{ sql_string_list(rebuilt) }}
    {%- endif %}

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
