{#- Tests over the partitioned incremental models check only what changed since they last passed.

    A night rebuilds a few deportation partitions of 10 M-row models; a full-history test (one uniqueness
    group-by over 30 M claims) would cost more than the build. The rows of a partition that was not
    rebuilt are exactly the rows that already passed, so a test that is partition-local (its groups never
    span two partitions) only needs the partitions rebuilt since its last pass.

    The record, in the build file's `audit` schema (never published):
    - audit.partition_builds: one row per partition a model rebuilt (delete_partitions, the pre-hook), with a
      sequence number; a full rebuild of a model writes the partition key '*' (everything changed);
    - audit.tests_passed: per scoped test, the sequence number its last pass covered (on-run-end, only for
      tests whose status is 'pass'; a failed, errored or skipped test keeps its old mark, so the next run
      checks the same partitions again, plus any rebuilt since).
    No mark (a new build file, a replay, a first run after an upgrade) means the whole table.
    Rows no scoped test still needs are pruned on-run-end (prune_audit_scope), so the record stays as small
    as what is unchecked. -#}


{#- on-run-start: the record's tables (idempotent). -#}
{% macro create_audit_scope_tables() -%}
    create schema if not exists audit;
    create sequence if not exists audit.partition_build_seq;
    create table if not exists audit.partition_builds (
        model varchar not null,
        partition_key varchar not null,
        seq bigint not null,
        invocation_id varchar,
        built_at timestamptz default current_timestamp
    );
    create table if not exists audit.tests_passed (
        test_id varchar not null,
        through_seq bigint not null,
        invocation_id varchar,
        passed_at timestamptz default current_timestamp
    )
{%- endmacro %}


{#- The statement that records the partitions the current model is about to rebuild ('*' in a full
    rebuild), run in its pre-hook after the delete. -#}
{% macro record_partition_builds(partition_keys) -%}
    {%- set keys = partition_keys if is_incremental() else ['*'] -%}
    insert into audit.partition_builds (model, partition_key, seq, invocation_id)
    select '{{ this.identifier }}', partition_key, nextval('audit.partition_build_seq'), '{{ invocation_id }}'
    from (select unnest([{%- for key in keys %}'{{ key | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor %}]::varchar[]) as partition_key)
{%- endmacro %}


{#- A predicate on `column` selecting the partitions of `models` rebuilt since the current test last passed
    (`true`: no pass yet, or a full rebuild since). Keys are compared as deportation keys: a claims key's
    'dep|' prefix is dropped, and `add_prefix` ('dep|' for a claims table) put back; `always` is ORed in
    (the claims' small partitions, rebuilt every run). -#}
{% macro changed_partitions(models, column='_partition_key', add_prefix='', always=none) -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set sql -%}
        with mark as (
            select max(through_seq) as since from audit.tests_passed where test_id = '{{ model.unique_id }}'
        )
        select distinct if(starts_with(partition_key, 'dep|'), substr(partition_key, 5), partition_key)
        from audit.partition_builds
        where model in {{ sql_string_list(models) }} and seq > coalesce((select since from mark), -1)
        union all
        select '*' from mark where since is null
    {%- endset -%}
    {%- set keys = run_query(sql).columns[0].values() | reject('none') | map('string') | unique | sort | list -%}
    {%- if '*' in keys -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set prefixed = [] -%}
    {%- for key in keys %}{% do prefixed.append(add_prefix ~ key) %}{% endfor -%}
    {%- set predicate = column ~ ' in ' ~ sql_string_list(prefixed) -%}
    {{ return('(' ~ predicate ~ (' or ' ~ always if always else '') ~ ')') }}
{%- endmacro %}


{#- on-run-end: for each passing scoped test (tag 'changed_partitions'), the sequence its pass covered:
    the newest rebuild of the models it reads (they all ran before it). -#}
{% macro record_passed_tests(results) -%}
    {%- set rows = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and 'changed_partitions' in result.node.tags
            and result.status == 'pass' -%}
        {%- set models = [] -%}
        {%- for node_id in result.node.depends_on.nodes if node_id.startswith('model.') -%}
            {%- do models.append(node_id.split('.')[-1]) -%}
        {%- endfor -%}
        {%- do rows.append(
            "select '" ~ result.node.unique_id ~ "', (select coalesce(max(seq), 0) from audit.partition_builds where model in "
            ~ sql_string_list(models) ~ ")"
        ) -%}
    {%- endfor -%}
    {%- if rows -%}
        insert into audit.tests_passed (test_id, through_seq, invocation_id)
        select *, '{{ invocation_id }}' from ({{ rows | join(' union all ') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- on-run-end, after record_passed_tests: keep each scoped test's newest mark only, and drop the rebuilds
    every scoped test of the project has passed beyond (none while any of them has no mark yet). -#}
{% macro prune_audit_scope() -%}
    {%- set ids = [] -%}
    {%- for node in (graph.nodes.values() if execute else [])
        if node.resource_type == 'test' and 'changed_partitions' in node.tags -%}
        {%- do ids.append(node.unique_id) -%}
    {%- endfor -%}
    {%- if ids -%}
        delete from audit.tests_passed
        where rowid not in (select arg_max(rowid, through_seq) from audit.tests_passed group by test_id);
        delete from audit.partition_builds
        where seq <= (
            select min(through) from (
                select max(through_seq) as through from audit.tests_passed
                where test_id in {{ sql_string_list(ids) }}
                group by test_id
            )
            having count(*) = {{ ids | length }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
