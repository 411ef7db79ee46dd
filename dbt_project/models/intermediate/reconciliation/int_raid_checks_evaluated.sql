{#- Reconciliation checks about raids (see int_reconciliation_checks_unioned for the rules): reports of
    one incident, breakdown vs totals, raid vs deportations citing it, unknown labels. One row per check. -#}
with

reports as (

    select * from {{ ref('int_raid_reports_unioned') }}

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

persons as (

    select * from {{ ref('int_raid_persons_unnested') }}

),

incident_persons as (

    select * from {{ ref('int_raid_incident_persons_selected') }}

),

deportations as (

    select * from {{ ref('int_deportations_matched') }}

),

quarantined as (

    select * from {{ ref('stg_raw__quarantined_rows') }}
    where is_unknown_label

),

incident_reports as (

    select
        incidents.incident_id,
        reports.*
    from reports
    inner join incidents on reports.report_id = incidents.report_id

),

report_pairs as (

    select
        lead_report.incident_id,
        lead_report.report_id as left_report_id,
        lead_report.source_feed || ':' || lead_report.report_id as left_source,
        other_report.report_id as right_report_id,
        other_report.source_feed || ':' || other_report.report_id as right_source,
        lead_report.date_start,
        lead_report.persons_detained as left_detained,
        lead_report.persons_rescued as left_rescued,
        lead_report.suspects_arrested as left_arrested,
        other_report.persons_detained as right_detained,
        other_report.persons_rescued as right_rescued,
        other_report.suspects_arrested as right_arrested
    from incident_reports as lead_report
    inner join incident_reports as other_report
        on
            lead_report.incident_id = other_report.incident_id
            and lead_report.report_id = lead_report.incident_id
            and lead_report.report_id <> other_report.report_id

),

raid_reports_disagree as (

    select
        'raid_reports_disagree' as rule,
        'incident' as subject_type,
        report_pairs.incident_id as subject_id,
        cast(null as varchar) as nationality_iso3,
        report_pairs.date_start as check_date,
        metrics.metric as metric_left,
        metrics.left_value as value_left,
        metrics.metric as metric_right,
        metrics.right_value as value_right,
        report_pairs.left_source as left_sources,
        report_pairs.right_source as right_sources,
        metrics.left_value <> metrics.right_value as is_conflict,
        false as is_suppressed,
        report_pairs.right_report_id || ':' || metrics.metric as check_key,
        report_pairs.left_report_id || ' and ' || report_pairs.right_report_id || ' report the same raid' as detail
    from report_pairs
    cross join
        lateral (
            values
            ('persons_detained', report_pairs.left_detained, report_pairs.right_detained),
            ('persons_rescued', report_pairs.left_rescued, report_pairs.right_rescued),
            ('suspects_arrested', report_pairs.left_arrested, report_pairs.right_arrested)
        ) as metrics (metric, left_value, right_value)
    where
        metrics.left_value is not null
        and metrics.right_value is not null

),

people_found_disagree as (

    select
        'raid_reports_disagree' as rule,
        'incident' as subject_type,
        incident_id as subject_id,
        cast(null as varchar) as nationality_iso3,
        date_start as check_date,
        concat_ws(
            '+',
            case when left_detained is not null then 'persons_detained' end,
            case when left_rescued is not null then 'persons_rescued' end
        ) as metric_left,
        coalesce(left_detained, 0) + coalesce(left_rescued, 0) as value_left,
        concat_ws(
            '+',
            case when right_detained is not null then 'persons_detained' end,
            case when right_rescued is not null then 'persons_rescued' end
        ) as metric_right,
        coalesce(right_detained, 0) + coalesce(right_rescued, 0) as value_right,
        left_source as left_sources,
        right_source as right_sources,
        coalesce(left_detained, 0) + coalesce(left_rescued, 0)
        <> coalesce(right_detained, 0) + coalesce(right_rescued, 0) as is_conflict,
        false as is_suppressed,
        right_report_id || ':people_found' as check_key,
        'the two reports state different metrics of the people found (family people_found)' as detail
    from report_pairs
    where
        ((left_detained is null) <> (right_detained is null) or (left_rescued is null) <> (right_rescued is null))
        and (left_detained is not null or left_rescued is not null)
        and (right_detained is not null or right_rescued is not null)

),

report_nationality_sums as (

    select
        report_id,
        nationality_iso3,
        sum(persons) as persons
    from persons
    where
        label_issue is null
        and nationality_iso3 is not null
    group by report_id, nationality_iso3

),

published_hidden as (

    select
        report_id,
        nationality_iso3,
        bool_or(is_suppressed) as has_hidden_cell
    from incident_persons
    group by report_id, nationality_iso3

),

report_nationalities as (

    -- hidden when small, or when the published cells of this nationality include a hidden one
    select
        report_nationality_sums.*,
        report_nationality_sums.persons < 11 or coalesce(published_hidden.has_hidden_cell, false) as is_suppressed
    from report_nationality_sums
    left join published_hidden
        on
            report_nationality_sums.report_id = published_hidden.report_id
            and report_nationality_sums.nationality_iso3 = published_hidden.nationality_iso3

),

breakdown_nationality_disagree as (

    select
        'raid_reports_disagree' as rule,
        'incident' as subject_type,
        report_pairs.incident_id as subject_id,
        left_side.nationality_iso3,
        report_pairs.date_start as check_date,
        'breakdown_persons (' || left_side.nationality_iso3 || ')' as metric_left,
        case when left_side.is_suppressed or right_side.is_suppressed then null else left_side.persons end
            as value_left,
        'breakdown_persons (' || right_side.nationality_iso3 || ')' as metric_right,
        case when left_side.is_suppressed or right_side.is_suppressed then null else right_side.persons end
            as value_right,
        report_pairs.left_source as left_sources,
        report_pairs.right_source as right_sources,
        left_side.persons <> right_side.persons as is_conflict,
        left_side.is_suppressed or right_side.is_suppressed as is_suppressed,
        report_pairs.right_report_id || ':' || left_side.nationality_iso3 as check_key,
        'people of one nationality in the two reports'' breakdowns' as detail
    from report_pairs
    inner join report_nationalities as left_side on report_pairs.left_report_id = left_side.report_id
    inner join report_nationalities as right_side
        on
            report_pairs.right_report_id = right_side.report_id
            and left_side.nationality_iso3 = right_side.nationality_iso3

),

breakdown_sums as (

    select
        report_id,
        sum(persons) as breakdown_persons
    from persons
    where label_issue is null
    group by report_id

),

breakdown_vs_total as (

    select
        'breakdown_vs_total' as rule,
        'incident' as subject_type,
        incident_reports.incident_id as subject_id,
        cast(null as varchar) as nationality_iso3,
        incident_reports.date_start as check_date,
        'breakdown_persons' as metric_left,
        breakdown_sums.breakdown_persons as value_left,
        'persons_detained+persons_rescued+suspects_arrested' as metric_right,
        coalesce(incident_reports.persons_detained, 0) + coalesce(incident_reports.persons_rescued, 0)
        + coalesce(incident_reports.suspects_arrested, 0) as value_right,
        incident_reports.source_feed || ':' || incident_reports.report_id || ' (breakdown)' as left_sources,
        incident_reports.source_feed || ':' || incident_reports.report_id as right_sources,
        breakdown_sums.breakdown_persons
        > coalesce(incident_reports.persons_detained, 0) + coalesce(incident_reports.persons_rescued, 0)
        + coalesce(incident_reports.suspects_arrested, 0) as is_conflict,
        false as is_suppressed,
        incident_reports.report_id as check_key,
        'a breakdown is bounded by detained + rescued + arrested of the same report' as detail
    from incident_reports
    inner join breakdown_sums on incident_reports.report_id = breakdown_sums.report_id
    where
        incident_reports.persons_detained is not null
        or incident_reports.persons_rescued is not null
        or incident_reports.suspects_arrested is not null

),

found_by_nationality as (

    select
        incident_id,
        nationality_iso3,
        any_value(source_feed || ':' || report_id) as sources,
        sum(persons) as persons,
        bool_or(is_suppressed) as is_suppressed
    from incident_persons
    group by incident_id, nationality_iso3

),

incidents_with_breakdown as (

    select distinct incident_id from incident_persons

),

deported_by_nationality as (

    select
        incident_id,
        nationality_iso3,
        min(handover_date) as check_date,
        sum(persons_total) as persons,
        string_agg(
            concat_ws(
                ', ',
                case when kh_record_key is not null then 'kh_gdi_deportations:' || kh_record_key end,
                case when th_record_key is not null then 'th_imm_receptions:' || th_record_key end
            ),
            '; '
            order by deportation_id
        ) as sources
    from deportations
    where incident_id is not null
    group by incident_id, nationality_iso3

),

raid_vs_deportation as (

    select
        'raid_vs_deportation' as rule,
        'incident' as subject_type,
        deported.incident_id as subject_id,
        deported.nationality_iso3,
        deported.check_date,
        'persons_deported' as metric_left,
        deported.persons as value_left,
        'breakdown_persons' as metric_right,
        case when coalesce(found.is_suppressed, false) then null else coalesce(found.persons, 0) end as value_right,
        deported.sources as left_sources,
        coalesce(found.sources, 'no cell of this nationality in the raid breakdown') as right_sources,
        deported.persons > coalesce(found.persons, 0) as is_conflict,
        coalesce(found.is_suppressed, false) as is_suppressed,
        coalesce(deported.nationality_iso3, '?') as check_key,
        'people of one nationality deported in batches citing the raid are bounded by those the raid found'
            as detail
    from deported_by_nationality as deported
    inner join incidents_with_breakdown on deported.incident_id = incidents_with_breakdown.incident_id
    left join found_by_nationality as found
        on
            deported.incident_id = found.incident_id
            and deported.nationality_iso3 = found.nationality_iso3

),

unknown_label as (

    select
        'unknown_label' as rule,
        'incident' as subject_type,
        incidents.incident_id as subject_id,
        persons.nationality_iso3,
        reports.date_start as check_date,
        'breakdown cell (' || coalesce(persons.nationality_labels, '?') || ' / ' || persons.cell_labels || ')'
            as metric_left,
        case when persons.persons < 11 then null else persons.persons end as value_left,
        'accepted labels' as metric_right,
        cast(null as bigint) as value_right,
        persons.source_feed || ':' || persons.report_id as left_sources,
        'macro sex_code / age_group_code (feeds/README.md)' as right_sources,
        true as is_conflict,
        coalesce(persons.persons < 11, false) as is_suppressed,
        persons.report_id || ':' || persons.cell_labels || ':' || coalesce(persons.nationality_iso3, '?') as check_key,
        persons.label_issue || ': cell excluded from facts, never mapped to a default' as detail
    from persons
    inner join incidents on persons.report_id = incidents.report_id
    inner join reports on persons.report_id = reports.report_id
    where persons.label_issue is not null

),

quarantined_label as (

    select
        'unknown_label' as rule,
        'file' as subject_type,
        quarantined.file_name || '#' || quarantined.row_number as subject_id,
        cast(null as varchar) as nationality_iso3,
        cast(quarantined.quarantined_at as date) as check_date,
        'quarantined row of ' || quarantined.table_name as metric_left,
        cast(null as bigint) as value_left,
        'accepted labels' as metric_right,
        cast(null as bigint) as value_right,
        quarantined.feed || ':' || quarantined.file_name || ' row ' || quarantined.row_number as left_sources,
        'feeds/' || quarantined.feed || '.yaml (labels)' as right_sources,
        true as is_conflict,
        false as is_suppressed,
        quarantined.file_sha256 as check_key,
        quarantined.reason || ': row quarantined by the loader, never mapped to a default' as detail
    from quarantined

),

unioned as (

    select * from raid_reports_disagree
    union all by name
    select * from people_found_disagree
    union all by name
    select * from breakdown_vs_total
    union all by name
    select * from raid_vs_deportation
    union all by name
    select * from unknown_label
    union all by name
    select * from breakdown_nationality_disagree
    union all by name
    select * from quarantined_label

),

final as (

    select * from unioned

)

select * from final
