{#- Current NBTC counts with the province resolved; province 'ALL' is the national row, coded 'TH'.
    English and Thai spellings of one province collapse to one ISO 3166-2 code (newest delivery wins). -#}
with

actions as (

    select * from {{ ref('stg_nbtc__telecom_actions') }}
    where is_latest_delivery

),

resolved as (

    select
        *,
        case
            when is_national then 'TH'
            else {{ admin1_iso('province_label', "'THA'") }}
        end as admin1_iso
    from actions

),

keyed as (

    select
        strftime(month_start, '%Y-%m') || '|' || coalesce(admin1_iso, 'unmapped:' || {{ label_key('province_label') }})
        || '|' || action_type as telecom_action_id,
        month_start,
        admin1_iso,
        is_national,
        action_type,
        action_count,
        reported_at,
        province_label,
        _loaded_at,
        {{ lineage_struct('nbtc_telecom') }} as lineage
    from resolved

),

final as (

    select
        telecom_action_id,
        month_start,
        admin1_iso,
        is_national,
        action_type,
        arg_max(action_count, _loaded_at) as action_count,
        max(reported_at) as reported_at,
        max(_loaded_at) as _loaded_at,
        list(lineage) as _lineage
    from keyed
    group by telecom_action_id, month_start, admin1_iso, is_national, action_type

)

select * from final
