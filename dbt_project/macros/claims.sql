{#- Which claims a fact can take a figure from. A raid (rule largest_report) takes every figure from the
    current version of ONE report, never mixing agencies: when that report does not state a figure, the
    fact has none, and no other report's claim may be marked used in its place. -#}
{% macro claim_can_be_used() -%}
    rule is distinct from 'largest_report' or (priority = 1 and is_latest_of_record)
{%- endmacro %}


{#- Claim resolution over `claims` (int_figure_claims_unioned, or a partition-filtered subquery of it):
    in each conflict group (one value of one fact row) the claim the fact uses is the current version of
    a record with the best priority (deportations: the receiving checkpoint's count beats the sending
    bulletin), then the newest delivery. A group has a conflict when the current claims of different
    records disagree; older revisions of the same record are superseded, not conflicts.

    Aggregates and joins, not window functions: a window sorts every (wide) claim row, while grouping the
    few columns a group needs and joining back is several times cheaper over all history. `claims` is read
    three times (no shared CTE, which DuckDB would materialise whole) and every group is keyed by
    _partition_key (a conflict group and a raw row's claims never span two partitions), so a partition
    filter written into `claims` reaches every scan; one written on the result (a test's `where`) reaches
    the conflict-group aggregate. -#}
{% macro resolve_claims(claims) -%}
    with

    conflict_groups as (

        select
            _partition_key,
            conflict_group_id,
            -- the claim the fact uses: current version first, best priority, newest delivery (claim_id breaks ties)
            arg_min(
                claim_id,
                (not is_latest_of_record, priority, - epoch_us(_loaded_at), - _row_number, claim_id)
            ) filter (where {{ claim_can_be_used() }}) as used_claim_id,
            coalesce(
                min(value) filter (where is_latest_of_record) <> max(value) filter (where is_latest_of_record), false
            ) as has_conflict,
            count(*) filter (where is_latest_of_record) as current_claims
        from {{ claims }}
        group by _partition_key, conflict_group_id

    ),

    {#- k = 11: a sex-level count below 11 is never published, and then neither is the other sex of the
        same record (total minus the visible one would reveal it) #}
    suppressed_rows as (

        select distinct
            _partition_key,
            raw_table,
            _file_sha256,
            _row_number
        from {{ claims }}
        where sex in ('M', 'F') and value < 11

    ),

    final as (

        select
            claims.* exclude (_partition_key),
            -- the group's key, not the claim's (equal): a filter on it reaches the aggregate
            conflict_groups._partition_key,
            coalesce(claims.claim_id = conflict_groups.used_claim_id, false) as is_used,
            conflict_groups.has_conflict,
            conflict_groups.current_claims,
            case
                when claims.claim_id = conflict_groups.used_claim_id and conflict_groups.current_claims = 1
                    then 'used: only current claim'
                when claims.claim_id = conflict_groups.used_claim_id then 'used: rule ' || claims.rule
                when not claims.is_latest_of_record then 'superseded: a newer version of the same record'
                when conflict_groups.used_claim_id is null
                    then 'not used: rule ' || claims.rule || ' takes this figure from a report that does not state it'
                else 'not used: rule ' || claims.rule
            end as resolution,
            coalesce(claims.sex in ('M', 'F') and suppressed_rows._row_number is not null, false) as is_suppressed
        from {{ claims }} as claims
        inner join conflict_groups
            on
                claims._partition_key = conflict_groups._partition_key
                and claims.conflict_group_id = conflict_groups.conflict_group_id
        left join suppressed_rows
            on
                claims._partition_key = suppressed_rows._partition_key
                and claims.raw_table = suppressed_rows.raw_table
                and claims._file_sha256 = suppressed_rows._file_sha256
                and claims._row_number = suppressed_rows._row_number

    )

    select * from final
{%- endmacro %}
