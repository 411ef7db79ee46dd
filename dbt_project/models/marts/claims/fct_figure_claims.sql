{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(claim_partitions_to_rebuild(), keep_prefix='dep|') }}",
    )
}}

-- depends_on: {{ ref('stg_kh_gdi__deportations') }}, {{ ref('stg_th_imm__receptions') }}
{#- Incremental: deportation partitions with new KH/TH deliveries since the last build are rebuilt; every
    other partition (raids: linking can regroup reports without a load; assistance, repatriations,
    telecom) is small and rebuilt every time, so tombstoned raids and regrouped incidents disappear
    (macros/incremental_partitions.sql). -#}
{%- set rebuilt = claim_partitions_to_rebuild() if is_incremental() else none %}

with

{#- the resolution (macros/claims.sql, as in int_figure_claims_resolved) of only the rebuilt partitions:
    a night's claims are few, so they are read from the 30 M-row table once and kept (the resolution reads
    them four times); a full rebuild reads the table where it needs it and never holds all of it #}
{%- if rebuilt is not none %}

rebuilt_claims as materialized (

    select * from {{ ref('int_figure_claims_unioned') }}
    where _partition_key in {{ sql_string_list(rebuilt) }} or not starts_with(_partition_key, 'dep|')

),
{%- endif %}
{%- set claims = "rebuilt_claims" if rebuilt is not none else ref('int_figure_claims_unioned') %}

touched as (

    {{ resolve_claims(claims) }}

),

final as (

    select
        claim_id,
        source_feed,
        raw_table,
        metric,
        nationality_iso3,
        sex,
        admin1_iso,
        site_id,
        period_start,
        period_end,
        cast(case when is_suppressed then null else value end as bigint) as value,
        qualifier,
        figure_origin,
        as_of_date,
        fact_table,
        fact_key,
        conflict_group_id,
        resolution,
        is_used,
        has_conflict,
        is_suppressed,
        _feed,
        _file_sha256,
        cast(_row_number as integer) as _row_number,
        _loaded_at,
        _partition_key
    from touched

)

select * from final
