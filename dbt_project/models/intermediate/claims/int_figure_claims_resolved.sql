{#- Resolution: in each conflict group (one value of one fact row) the claim the fact uses is the
    current version of a record with the best priority (deportations: the receiving checkpoint's count
    beats the sending bulletin), then the newest delivery. A group has a conflict when the current claims
    of different records disagree; older revisions of the same record are superseded, not conflicts. -#}
with

claims as (

    select * from {{ ref('int_figure_claims_unioned') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by conflict_group_id
            order by is_latest_of_record desc, priority asc, _loaded_at desc, _row_number desc
        ) = 1 as is_used,
        count(distinct value) filter (where is_latest_of_record) over (partition by conflict_group_id) > 1
            as has_conflict,
        count(*) filter (where is_latest_of_record) over (partition by conflict_group_id) as current_claims
    from claims

),

final as (

    select
        *,
        case
            when is_used and current_claims = 1 then 'used: only current claim'
            when is_used then 'used: rule ' || rule
            when not is_latest_of_record then 'superseded: a newer version of the same record'
            else 'not used: rule ' || rule
        end as resolution,
        -- k = 11: a sex-level count below 11 is never published, and then neither is the other sex of the
        -- same record (total minus the visible one would reveal it)
        coalesce(
            sex in ('M', 'F')
            and min(case when sex in ('M', 'F') then value end) over (
                partition by raw_table, _file_sha256, _row_number
            ) < 11,
            false
        ) as is_suppressed
    from ranked

)

select * from final
