{#- Published person cells of each incident; suppression (k = 11, primary and secondary) is decided once,
    in int_raid_incident_persons_selected. -#}
with

incident_persons as (

    select * from {{ ref('int_raid_incident_persons_selected') }}

),

final as (

    select
        incident_id || '|' || coalesce(nationality_iso3, '?') || '|' || sex || '|' || age_group as raid_person_id,
        incident_id,
        report_id,
        nationality_iso3,
        sex,
        age_group,
        cast(case when is_suppressed then null else persons end as integer) as persons,
        is_suppressed,
        'stated' as figure_origin
    from incident_persons

)

select * from final
