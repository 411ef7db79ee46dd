{{ config(materialized='table') }}

{#- Linking rule: one row per pair of current raid reports that the rule or an analyst links (or unlinks).
    Two reports of DIFFERENT feeds are the same raid when
      explicit_ref           either report lists the other's report id (KH-NCCT Ref, RTP related_reports), or
      site_date_nationality  the same site (or, when either site is unresolved, the same admin-1 area), date
                             ranges within 1 day of each other, and at least one verified nationality in both
                             breakdowns (XXU is no evidence).
    The analyst seed report_links overrides: unlink removes the pair whatever the rule says, link adds it;
    the newest decision per pair wins. Every row records its rule and a readable reason. -#}
with

reports as (

    select * from {{ ref('int_raid_reports_unioned') }}

),

report_links as (

    select * from {{ ref('report_links') }}

),

decisions as (

    select
        least(trim(report_id_a), trim(report_id_b)) as report_id_a,
        greatest(trim(report_id_a), trim(report_id_b)) as report_id_b,
        lower(trim(action)) as action,
        reason,
        analyst,
        decided_on
    from report_links
    qualify row_number() over (
        partition by least(trim(report_id_a), trim(report_id_b)), greatest(trim(report_id_a), trim(report_id_b))
        order by decided_on desc
    ) = 1

),

cited_pairs as (

    -- equi-joins only (never every report against every other): pairs a report cites
    select
        least(citing.report_id, cited.report_id) as report_id_a,
        greatest(citing.report_id, cited.report_id) as report_id_b
    from reports as citing
    cross join unnest(citing.refs) as cited_refs (ref_id)
    inner join reports as cited on cited_refs.ref_id = cited.report_id
    where citing.report_id <> cited.report_id

),

place_pairs as (

    -- pairs of different feeds in the same site or admin area within the date window
    select
        left_report.report_id as report_id_a,
        right_report.report_id as report_id_b
    from reports as left_report
    inner join reports as right_report
        on
            left_report.admin1_iso = right_report.admin1_iso
            and left_report.report_id < right_report.report_id
            and left_report.source_feed <> right_report.source_feed
            and left_report.date_start <= right_report.date_end + 1
            and right_report.date_start <= left_report.date_end + 1
    union
    select
        left_report.report_id as report_id_a,
        right_report.report_id as report_id_b
    from reports as left_report
    inner join reports as right_report
        on
            left_report.site_id = right_report.site_id
            and left_report.report_id < right_report.report_id
            and left_report.source_feed <> right_report.source_feed
            and left_report.date_start <= right_report.date_end + 1
            and right_report.date_start <= left_report.date_end + 1

),

pair_keys as (

    select * from cited_pairs
    union
    select * from place_pairs

),

candidates as (

    select
        left_report.report_id as report_id_a,
        right_report.report_id as report_id_b,
        list_contains(left_report.refs, right_report.report_id)
        or list_contains(right_report.refs, left_report.report_id) as is_explicit_ref,
        left_report.source_feed <> right_report.source_feed
        and (
            left_report.site_id = right_report.site_id
            or (
                (left_report.site_id is null or right_report.site_id is null)
                and left_report.admin1_iso = right_report.admin1_iso
            )
        )
        and left_report.date_start <= right_report.date_end + 1
        and right_report.date_start <= left_report.date_end + 1
        and len(list_intersect(left_report.nationalities, right_report.nationalities)) > 0
            as is_rule_match,
        case
            when list_contains(right_report.refs, left_report.report_id)
                then right_report.report_id || ' cites ' || left_report.report_id
            else left_report.report_id || ' cites ' || right_report.report_id
        end as ref_reason,
        coalesce(
            case when left_report.site_id = right_report.site_id then 'same site ' || left_report.site_id end,
            'same admin area ' || left_report.admin1_iso || ' (site unresolved)'
        )
        || ', dates ' || left_report.date_start || ' and ' || right_report.date_start || ' within 1 day'
        || ', nationalities in both: '
        || array_to_string(list_sort(list_intersect(left_report.nationalities, right_report.nationalities)), ', ')
            as rule_reason
    from pair_keys
    inner join reports as left_report on pair_keys.report_id_a = left_report.report_id
    inner join reports as right_report on pair_keys.report_id_b = right_report.report_id

),

rule_pairs as (

    select
        report_id_a,
        report_id_b,
        case when is_explicit_ref then 'explicit_ref' else 'site_date_nationality' end as link_rule,
        case when is_explicit_ref then ref_reason else rule_reason end as link_reason
    from candidates
    where is_explicit_ref or is_rule_match

),

analyst_pairs as (

    select
        decisions.report_id_a,
        decisions.report_id_b,
        case when decisions.action = 'link' then 'analyst_link' else 'analyst_unlink' end as link_rule,
        'analyst ' || decisions.analyst || ' (' || decisions.decided_on || '): ' || decisions.reason
        || coalesce(' [rule said: ' || rule_pairs.link_reason || ']', '') as link_reason
    from decisions
    inner join reports as report_a on decisions.report_id_a = report_a.report_id
    inner join reports as report_b on decisions.report_id_b = report_b.report_id
    left join rule_pairs
        on
            decisions.report_id_a = rule_pairs.report_id_a
            and decisions.report_id_b = rule_pairs.report_id_b
    where decisions.action in ('link', 'unlink')

),

final as (

    select
        report_id_a,
        report_id_b,
        link_rule,
        link_reason,
        link_rule <> 'analyst_unlink' as is_linked
    from analyst_pairs
    union all
    select
        rule_pairs.report_id_a,
        rule_pairs.report_id_b,
        rule_pairs.link_rule,
        rule_pairs.link_reason,
        true as is_linked
    from rule_pairs
    anti join analyst_pairs
        on
            rule_pairs.report_id_a = analyst_pairs.report_id_a
            and rule_pairs.report_id_b = analyst_pairs.report_id_b

)

select * from final
