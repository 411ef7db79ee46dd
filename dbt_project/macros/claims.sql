{#- Which claims a fact can take a figure from. A raid (rule largest_report) takes every figure from the
    current version of ONE report, never mixing agencies: when that report does not state a figure, the
    fact has none, and no other report's claim may be marked used in its place. -#}
{% macro claim_can_be_used() -%}
    (rule is null or rule != 'largest_report' or (priority = 1 and is_latest_of_record))
{%- endmacro %}


{#- Claim resolution over `claims` (int_figure_claims_unioned, or a partition-filtered subquery of it):
    in each conflict group (one value of one fact row) the claim the fact uses is the current version of
    a record with the best priority (deportations: the receiving checkpoint's count beats the sending
    bulletin), then the newest delivery. A group has a conflict when the current claims of different
    records disagree; older revisions of the same record are superseded, not conflicts.

    Almost every group holds one claim (a batch stated once): only groups shared by several claims are
    resolved by aggregate (arg_min etc.), and a lone claim resolves itself. So the wide aggregate and the
    join back cover a few percent of the rows, and the one aggregate over all of them only counts hashes:
    at 1 M rows 2.5-3x faster than resolving every group, and it completes at a memory limit where that ran
    out of memory. The k-anonymity join keys a raw row by small integers (file number, row number), not
    its sha256. At 30 M claims (1.5 GB memory limit) those two cut the full rebuild of fct_figure_claims
    from 145 s to 55 s (same rows). Aggregates and joins, not window functions (a window sorts every wide
    claim row). `claims`
    is read several times (no shared CTE, which DuckDB would materialise whole) and every group is keyed
    by _partition_key (a conflict group and a raw row's claims never span two partitions), so a partition
    filter written into `claims` reaches every scan. -#}
{% macro resolve_claims(claims) -%}
    with

    {#- groups of more than one claim, as 64-bit hashes of the group's key: counting 30 M long text keys
        would hold them all in the aggregate. A hash shared by two lone groups only sends both through
        the aggregate below, which groups by the real key and resolves a lone claim exactly as the lone
        path does: the hash picks the path, never the result. #}
    shared_groups as (

        select hash(_partition_key, conflict_group_id) as group_hash
        from {{ claims }}
        group by group_hash
        having count(*) > 1

    ),

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
        where hash(_partition_key, conflict_group_id) in (select group_hash from shared_groups)
        group by _partition_key, conflict_group_id

    ),

    {#- files numbered (by their sha256, so every reference to this CTE numbers them alike): a raw row is
        keyed by (raw_table, file number, row number), not by its 64-character sha256 #}
    claim_files as (

        select
            _file_sha256,
            row_number() over (order by _file_sha256) as file_number
        from (select distinct _file_sha256 from {{ claims }})

    ),

    {#- k = 11: a sex-level count below 11 is never published, and then neither is the other sex of the
        same record (total minus the visible one would reveal it) #}
    suppressed_rows as (

        select distinct
            claims.raw_table,
            claim_files.file_number,
            claims._row_number
        from {{ claims }} as claims
        inner join claim_files on claims._file_sha256 = claim_files._file_sha256
        where claims.sex in ('M', 'F') and claims.value < 11

    ),

    resolved as (

        select
            claims.*,
            -- a lone claim is its group's used claim when the fact can take it
            case
                when shared.conflict_group_id is not null then shared.used_claim_id
                when {{ claim_can_be_used() }} then claims.claim_id
            end as used_claim_id,
            coalesce(shared.has_conflict, false) as has_conflict,
            coalesce(shared.current_claims, cast(claims.is_latest_of_record as bigint)) as current_claims
        from {{ claims }} as claims
        left join conflict_groups as shared
            on
                claims._partition_key = shared._partition_key
                and claims.conflict_group_id = shared.conflict_group_id

    ),

    final as (

        select
            resolved.* exclude (used_claim_id),
            coalesce(resolved.claim_id = resolved.used_claim_id, false) as is_used,
            case
                when resolved.claim_id = resolved.used_claim_id and resolved.current_claims = 1
                    then 'used: only current claim'
                when resolved.claim_id = resolved.used_claim_id then 'used: rule ' || resolved.rule
                when not resolved.is_latest_of_record then 'superseded: a newer version of the same record'
                when resolved.used_claim_id is null
                    then 'not used: rule ' || resolved.rule || ' takes this figure from a report that does not state it'
                else 'not used: rule ' || resolved.rule
            end as resolution,
            coalesce(resolved.sex in ('M', 'F') and suppressed_rows._row_number is not null, false) as is_suppressed
        from resolved
        left join claim_files on resolved._file_sha256 = claim_files._file_sha256
        left join suppressed_rows
            on
                resolved.raw_table = suppressed_rows.raw_table
                and claim_files.file_number = suppressed_rows.file_number
                and resolved._row_number = suppressed_rows._row_number

    )

    select * from final
{%- endmacro %}
