-- Flag, never fix silently: an incident has has_conflict exactly when fct_reconciliation holds a conflict
-- about it (reports disagree, breakdown above detained + rescued + arrested, more deported than found).
with

raids as (

    select * from {{ ref('fct_raids') }}

),

checks as (

    select * from {{ ref('fct_reconciliation') }}
    where
        subject_type = 'incident'
        and status = 'conflict'
        and rule in ('raid_reports_disagree', 'breakdown_vs_total', 'raid_vs_deportation')

),

final as (

    select
        raids.incident_id,
        raids.has_conflict,
        count(checks.check_id) as conflict_checks
    from raids
    left join checks on raids.incident_id = checks.subject_id
    group by raids.incident_id, raids.has_conflict
    having raids.has_conflict <> (count(checks.check_id) > 0)

)

select * from final
