{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='_partition_key',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where _partition_key not in (
                select distinct current_claims._partition_key from {{ ref('int_figure_claims_resolved') }} as current_claims
            )",
        ],
    )
}}

with

claims as (

    select
        *,
        max(_loaded_at) over (partition by _partition_key) as _partition_loaded_at
    from {{ ref('int_figure_claims_resolved') }}

),

touched as (

    select * from claims
    -- raid partitions are rebuilt every time: linking (rule or analyst seed) can regroup reports without a load
    where {{ partitions_loaded_since_last_build() }} or _partition_key like 'raid|%'

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
