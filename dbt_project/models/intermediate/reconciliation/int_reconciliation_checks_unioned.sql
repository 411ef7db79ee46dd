{{ config(materialized='table') }}

{#- Every cross-report and cross-granularity check, one row each, with both sides and their sources.
    Which figures may be compared and which bound which comes from seeds/metric_taxonomy.csv:
      raid_reports_disagree  two reports of one incident state the same metric (or, when they state different
                             people_found metrics, detained + rescued; or one nationality of their breakdowns)
                             differently
      breakdown_vs_total     a report's breakdown names more people than detained + rescued + arrested
                             (arrests count: an arrest-only raid is never a false positive)
      raid_vs_deportation    more people of a nationality deported in batches citing the raid than it found
      legs_vs_snapshot       executed legs between two as-of dates vs the change of the cumulative snapshot
                             (only windows with an itemised leg: snapshots also grow by unitemised moves)
      period_vs_legs         a stated period total vs the executed legs inside that period
      plan_vs_execution      persons planned vs what moved: the plan's executed legs, or a stated period total
                             covering them when that is larger
      plan_vs_schedule       flights (and persons) planned vs the plan's scheduled legs
      derived_vs_stated_total  the nationality rows of a workbook add up to more than its stated total
      unknown_label          a breakdown cell with a sex / age label no rule accepts (excluded from facts), or a
                             row the loader quarantined for one
    Person-cell values under 11 are suppressed (value NULL, is_suppressed) like fct_raid_persons. -#}
with

raid_checks as (

    select * from {{ ref('int_raid_checks_evaluated') }}

),

movement_checks as (

    select * from {{ ref('int_movement_checks_evaluated') }}

),

unioned as (

    select * from raid_checks
    union all by name
    select * from movement_checks

),

final as (

    select
        rule || ':' || subject_id || ':' || check_key as check_id,
        rule,
        subject_type,
        subject_id,
        subject_type || ' ' || subject_id as subject,
        nationality_iso3,
        check_date,
        metric_left,
        cast(value_left as bigint) as value_left,
        metric_right,
        cast(value_right as bigint) as value_right,
        cast(value_left - value_right as bigint) as delta,
        case when is_conflict then 'conflict' else 'agree' end as status,
        left_sources,
        right_sources,
        detail,
        is_suppressed
    from unioned

)

select * from final
