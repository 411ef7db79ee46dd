{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='telecom_action_id',
        on_schema_change='fail',
    )
}}

with

actions as (

    select * from {{ ref('int_telecom_actions_resolved') }}
    where {{ partitions_loaded_since_last_build('_loaded_at') }}

),

final as (

    select
        telecom_action_id,
        month_start as month,
        admin1_iso,
        is_national,
        action_type,
        cast(action_count as bigint) as count,
        reported_at,
        _loaded_at
    from actions

)

select * from final
