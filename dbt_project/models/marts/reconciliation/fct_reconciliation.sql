with

checks as (

    select * from {{ ref('int_reconciliation_checks_unioned') }}

),

final as (

    select
        check_id,
        rule,
        subject_type,
        subject_id,
        subject,
        nationality_iso3,
        check_date,
        metric_left,
        value_left,
        metric_right,
        value_right,
        delta,
        status,
        left_sources,
        right_sources,
        detail,
        is_suppressed
    from checks

)

select * from final
