{#- Reconciliation checks about movements and snapshots (see int_reconciliation_checks_unioned for the
    rules): legs vs snapshot change, period totals vs legs, plans vs schedule and execution, nationality rows
    vs the stated total. One row per check. -#}
with

movements as (

    select * from {{ ref('int_repatriations_resolved') }}

),

snapshots as (

    select * from {{ ref('int_assistance_snapshots_resolved') }}

),

executed_legs as (

    select *
    from movements
    where
        row_type = 'leg'
        and status = 'executed'

),

nationality_snapshots as (

    select
        *,
        lag(as_of_date) over (partition by nationality_iso3 order by as_of_date) as previous_as_of_date,
        lag(persons_repatriated_cumulative) over (partition by nationality_iso3 order by as_of_date)
            as previous_repatriated
    from snapshots
    where
        nationality_iso3 is not null
        and nationality_iso3 <> 'ALL'

),

snapshot_legs as (

    select
        snaps.nationality_iso3,
        snaps.as_of_date,
        snaps.previous_as_of_date,
        snaps.persons_repatriated_cumulative - snaps.previous_repatriated as snapshot_change,
        coalesce(sum(legs.persons), 0) as leg_persons,
        coalesce(
            string_agg('mfa_assistance_movements:' || legs.repatriation_id, ', ' order by legs.repatriation_id),
            'no executed legs'
        ) as leg_sources
    from nationality_snapshots as snaps
    left join executed_legs as legs
        on
            snaps.nationality_iso3 = legs.nationality_iso3
            and snaps.previous_as_of_date < legs.movement_date
            and snaps.as_of_date >= legs.movement_date
    where
        snaps.previous_as_of_date is not null
        and snaps.persons_repatriated_cumulative is not null
        and snaps.previous_repatriated is not null
    group by
        snaps.nationality_iso3,
        snaps.as_of_date,
        snaps.previous_as_of_date,
        snaps.persons_repatriated_cumulative - snaps.previous_repatriated
    -- only windows with itemised legs are checkable: snapshots also grow by movements nobody itemises
    having count(legs.repatriation_id) > 0

),

legs_vs_snapshot as (

    select
        'legs_vs_snapshot' as rule,
        'nationality' as subject_type,
        nationality_iso3 as subject_id,
        nationality_iso3,
        as_of_date as check_date,
        'persons_repatriated (executed legs ' || previous_as_of_date + 1 || '..' || as_of_date || ')' as metric_left,
        leg_persons as value_left,
        'change of persons_repatriated_cumulative ' || previous_as_of_date || '..' || as_of_date as metric_right,
        snapshot_change as value_right,
        leg_sources as left_sources,
        'mfa_assistance_snapshots:' || previous_as_of_date || '|' || nationality_iso3
        || ', mfa_assistance_snapshots:' || as_of_date || '|' || nationality_iso3 as right_sources,
        leg_persons <> snapshot_change as is_conflict,
        false as is_suppressed,
        cast(as_of_date as varchar) as check_key,
        'itemised executed legs vs the change of the cumulative snapshot of the same nationality' as detail
    from snapshot_legs

),

periods as (

    select *
    from movements
    where row_type = 'period_total'

),

period_legs as (

    select
        periods.repatriation_id as period_id,
        periods.nationality_iso3,
        coalesce(periods.period_start, periods.movement_date) as period_start,
        periods.movement_date as period_end,
        periods.persons as period_persons,
        periods.flights as period_flights,
        sum(legs.persons) as leg_persons,
        sum(legs.flights) as leg_flights,
        count(legs.repatriation_id) as leg_count,
        coalesce(
            string_agg('mfa_assistance_movements:' || legs.repatriation_id, ', ' order by legs.repatriation_id),
            'no executed legs in the period'
        ) as leg_sources
    from periods
    left join executed_legs as legs
        on
            periods.nationality_iso3 = legs.nationality_iso3
            and legs.movement_date between coalesce(periods.period_start, periods.movement_date)
            and periods.movement_date
            -- same departure place: the same site, or the same province ("Mae Sot" airport and bridge)
            and (
                periods.departure_site_id is null
                or periods.departure_site_id = legs.departure_site_id
                or periods.departure_admin1_iso = legs.departure_admin1_iso
            )
    group by all

),

period_vs_legs as (

    select
        'period_vs_legs' as rule,
        'period' as subject_type,
        period_legs.period_id as subject_id,
        period_legs.nationality_iso3,
        period_legs.period_end as check_date,
        metrics.metric || ' (period total ' || period_legs.period_start || '..' || period_legs.period_end || ')'
            as metric_left,
        metrics.left_value as value_left,
        metrics.metric || ' (sum of ' || period_legs.leg_count || ' executed legs)' as metric_right,
        metrics.right_value as value_right,
        'mfa_assistance_movements:' || period_legs.period_id as left_sources,
        period_legs.leg_sources as right_sources,
        metrics.left_value <> metrics.right_value as is_conflict,
        false as is_suppressed,
        metrics.metric as check_key,
        'a period total and the legs of the same period measure the same movements (never add them)' as detail
    from period_legs
    cross join
        lateral (
            values
            ('persons', period_legs.period_persons, coalesce(period_legs.leg_persons, 0)),
            ('flights', period_legs.period_flights, period_legs.leg_flights)
        ) as metrics (metric, left_value, right_value)
    where
        metrics.left_value is not null
        and metrics.right_value is not null

),

plans as (

    select *
    from movements
    where row_type = 'plan'

),

plan_legs as (

    select
        plans.plan_id,
        plans.nationality_iso3,
        plans.movement_date,
        plans.repatriation_id as plan_row_id,
        plans.persons as planned_persons,
        plans.flights as planned_flights,
        legs.status,
        sum(legs.persons) as leg_persons,
        sum(coalesce(legs.flights, 1)) as leg_flights,
        count(legs.repatriation_id) as leg_count,
        string_agg('mfa_assistance_movements:' || legs.repatriation_id, ', ' order by legs.repatriation_id)
            as leg_sources
    from plans
    inner join movements as legs
        on
            plans.plan_id = legs.plan_id
            and legs.row_type = 'leg'
            and legs.status in ('executed', 'scheduled')
    group by all

),

plan_periods as (

    -- stated period totals of the plan's nationality that cover one of its executed legs
    select
        plan_legs.plan_id,
        sum(distinct_periods.persons) as period_persons,
        sum(distinct_periods.flights) as period_flights,
        string_agg('mfa_assistance_movements:' || distinct_periods.repatriation_id, ', ') as period_sources
    from (
        select distinct
            plans.plan_id,
            periods.repatriation_id,
            periods.persons,
            periods.flights
        from plans
        inner join executed_legs as legs on plans.plan_id = legs.plan_id
        inner join periods
            on
                plans.nationality_iso3 = periods.nationality_iso3
                and legs.movement_date between coalesce(periods.period_start, periods.movement_date)
                and periods.movement_date
    ) as distinct_periods
    inner join plan_legs
        on
            distinct_periods.plan_id = plan_legs.plan_id
            and plan_legs.status = 'executed'
    group by plan_legs.plan_id

),

plan_checks as (

    -- execution figure: the larger of the plan's executed legs and a stated period total covering them
    -- (legs may be only partly itemised with the plan id; both count what was moved)
    select
        case when plan_legs.status = 'executed' then 'plan_vs_execution' else 'plan_vs_schedule' end as rule,
        'plan' as subject_type,
        plan_legs.plan_id as subject_id,
        plan_legs.nationality_iso3,
        plan_legs.movement_date as check_date,
        metrics.metric || '_planned' as metric_left,
        metrics.left_value as value_left,
        metrics.metric || '_' || plan_legs.status
        || case
            when metrics.period_value > metrics.right_value
                then ' (stated period total ' || plan_periods.period_sources || ')'
            else ' (' || plan_legs.leg_count || ' legs)'
        end as metric_right,
        greatest(metrics.right_value, metrics.period_value) as value_right,
        'mfa_assistance_movements:' || plan_legs.plan_row_id as left_sources,
        case
            when metrics.period_value > metrics.right_value then plan_periods.period_sources
            else plan_legs.leg_sources
        end as right_sources,
        metrics.left_value <> greatest(metrics.right_value, metrics.period_value) as is_conflict,
        false as is_suppressed,
        metrics.metric as check_key,
        case
            when plan_legs.status = 'executed'
                then
                    'what the plan announced vs what moved (its executed legs, or a stated period total covering them'
                    || ' when larger)'
            else 'what the plan announced vs its day-by-day schedule (a leg without a flight count is one flight)'
        end as detail
    from plan_legs
    left join plan_periods
        on
            plan_legs.plan_id = plan_periods.plan_id
            and plan_legs.status = 'executed'
    cross join
        lateral (
            values
            ('persons', plan_legs.planned_persons, plan_legs.leg_persons, plan_periods.period_persons),
            ('flights', plan_legs.planned_flights, plan_legs.leg_flights, plan_periods.period_flights)
        ) as metrics (metric, left_value, right_value, period_value)
    where
        metrics.left_value is not null
        and metrics.right_value is not null

),

stated_totals as (

    select *
    from snapshots
    where
        nationality_iso3 = 'ALL'
        and figure_origin = 'stated'

),

nationality_sums as (

    select
        as_of_date,
        sum(persons_assisted_cumulative) as persons_assisted_cumulative,
        sum(persons_repatriated_cumulative) as persons_repatriated_cumulative
    from snapshots
    where nationality_iso3 is distinct from 'ALL'
    group by as_of_date

),

derived_vs_stated_total as (

    select
        'derived_vs_stated_total' as rule,
        'as_of_date' as subject_type,
        cast(stated_totals.as_of_date as varchar) as subject_id,
        'ALL' as nationality_iso3,
        stated_totals.as_of_date as check_date,
        metrics.metric || ' (sum of nationality rows)' as metric_left,
        metrics.left_value as value_left,
        metrics.metric || ' (stated total row)' as metric_right,
        metrics.right_value as value_right,
        'mfa_assistance_snapshots:' || stated_totals.as_of_date || '|<nationality rows>' as left_sources,
        'mfa_assistance_snapshots:' || stated_totals.as_of_date || '|ALL' as right_sources,
        metrics.left_value > metrics.right_value as is_conflict,
        false as is_suppressed,
        metrics.metric as check_key,
        'nationality rows are bounded by the stated total (they may list only some nationalities)' as detail
    from stated_totals
    inner join nationality_sums on stated_totals.as_of_date = nationality_sums.as_of_date
    cross join
        lateral (
            values
            (
                'persons_assisted_cumulative',
                nationality_sums.persons_assisted_cumulative,
                stated_totals.persons_assisted_cumulative
            ),
            (
                'persons_repatriated_cumulative',
                nationality_sums.persons_repatriated_cumulative,
                stated_totals.persons_repatriated_cumulative
            )
        ) as metrics (metric, left_value, right_value)
    where
        metrics.left_value is not null
        and metrics.right_value is not null

),

unioned as (

    select * from legs_vs_snapshot
    union all by name
    select * from period_vs_legs
    union all by name
    select * from plan_checks
    union all by name
    select * from derived_vs_stated_total

),

final as (

    select * from unioned

)

select * from final
