{#- The person breakdown of each incident, taken from ONE report so no person is counted twice: the
    incident's report whose breakdown names the most people (ties: the lead report, then report id).
    Cells with an unknown label never count (they are listed in fct_reconciliation).
    k = 11 (one implementation for every mart): a cell under 11 people is hidden (primary); when exactly
    one cell of an incident is hidden, the next smallest cell is hidden too (secondary), so the incident's
    total cannot reveal it. Cells are nationality × sex × age group, so age cells are covered. -#}
with

persons as (

    select * from {{ ref('int_raid_persons_unnested') }}
    where label_issue is null

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

report_totals as (

    select
        incidents.incident_id,
        persons.report_id,
        sum(persons.persons) as breakdown_persons
    from persons
    inner join incidents on persons.report_id = incidents.report_id
    group by incidents.incident_id, persons.report_id

),

selected as (

    select
        incident_id,
        report_id
    from report_totals
    qualify row_number() over (
        partition by incident_id
        order by breakdown_persons desc nulls last, (report_id = incident_id) desc, report_id
    ) = 1

),

cells as (

    select
        selected.incident_id,
        persons.report_id,
        persons.source_feed,
        persons.nationality_iso3,
        persons.sex,
        persons.age_group,
        persons.nationality_labels,
        persons.persons,
        persons.persons < 11 as is_primary_suppressed,
        persons._loaded_at
    from persons
    inner join selected on persons.report_id = selected.report_id

),

counted as (

    select
        *,
        count(*) filter (where is_primary_suppressed) over (partition by incident_id) as primary_cells,
        row_number() over (
            partition by incident_id, is_primary_suppressed
            order by persons, nationality_iso3, sex, age_group
        ) as rank_by_size
    from cells

),

final as (

    select
        * exclude (primary_cells, rank_by_size),
        is_primary_suppressed
        or (primary_cells = 1 and not is_primary_suppressed and rank_by_size = 1) as is_suppressed
    from counted

)

select * from final
