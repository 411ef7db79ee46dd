{#- Incremental rebuild by partition for the deportation family (int_deportations_matched,
    fct_deportations, int_figure_claims_unioned, fct_figure_claims, int_lineage).

    A deportation partition is crossing|nationality|day (the batch's handover date, or its reception date
    when no Cambodian line matched it): a night touches a few days of a few crossings, so what it rebuilds
    does not grow with the years of history behind it. Matching looks at most one day across (a reception
    0 or 1 day after the handover, each side's best candidate), so whether a line is matched, and to
    which, depends only on lines of its crossing|nationality within a day of it, and a delivery on day d
    can change batches of days d-1 .. d+1 only: a delivery rebuilds the days d-2 .. d+2 of its
    crossing|nationality (one day to spare), and a rebuilt day reads the lines of its own day +- 2
    (deportation_scope). Every conflict group and every claim of a batch stays in the batch's partition.

    Each model asks, before it runs, which partitions changed since its own last build (its newest
    _loaded_at) and gets them as literals: DuckDB pushes a literal IN-list through views down to the table
    scans, so a night sorts and joins only those days, never all history. A pre-hook deletes exactly those
    partitions (also the ones that became empty) and the model appends their new rows. -#}


{#- Crossing|nationality of one side of a batch (a KH bulletin line or a TH reception),
    'unmapped:<label key>' for a label not in the seeds. A matched batch has both sides mapped and equal,
    so this is the crossing|nationality of the partition of the batch the line ends up in. -#}
{% macro deportation_side_partition_key(checkpoint_expr, nationality_expr) -%}
    coalesce(
        {{ site_id(checkpoint_expr, ['border_crossing', 'airport']) }},
        'unmapped:' || {{ label_key(checkpoint_expr) }}
    )
    || '|'
    || coalesce({{ country_iso3(nationality_expr) }}, 'unmapped:' || {{ label_key(nationality_expr) }})
{%- endmacro %}


{#- The partition of a batch: its crossing|nationality (deportation_side_partition_key) and day. -#}
{% macro deportation_partition_key(crossing_nationality_expr, date_expr) -%}
    {{ crossing_nationality_expr }} || '|' || strftime({{ date_expr }}, '%Y-%m-%d')
{%- endmacro %}


{#- Partitions touched by KH/TH rows loaded after `watermark_sql`: for EVERY delivery of each bulletin
    line or reception that got a new delivery (a corrected delivery can move a line to another crossing,
    nationality or day; its old partition must lose it), the days d-2 .. d+2 of its crossing|nationality.
    Labels are mapped once per distinct label pair and day, not per row. -#}
{% macro deportation_partitions_loaded_after_sql(watermark_sql) -%}
    with
    watermark as (select {{ watermark_sql }} as loaded_after),
    new_bulletin_lines as (
        select distinct bulletin_no, line_no
        from {{ ref('stg_kh_gdi__deportations') }}
        where _loaded_at > (select loaded_after from watermark)
    ),
    new_receptions as (
        select distinct reception_no
        from {{ ref('stg_th_imm__receptions') }}
        where _loaded_at > (select loaded_after from watermark)
    ),
    touched_days as (
        select distinct checkpoint_label, nationality_label, handover_date as day
        from {{ ref('stg_kh_gdi__deportations') }}
        semi join new_bulletin_lines using (bulletin_no, line_no)
        union
        select distinct checkpoint_label, nationality_label, received_date as day
        from {{ ref('stg_th_imm__receptions') }}
        semi join new_receptions using (reception_no)
    )
    select distinct {{ deportation_partition_key(
        deportation_side_partition_key('checkpoint_label', 'nationality_label'), 'day + shift'
    ) }} as partition_key
    from touched_days, (select cast(unnest(range(-2, 3)) as integer) as shift)
{%- endmacro %}


{#- What a rebuild of the deportation partitions `partition_keys` (crossing|nationality|day) reads:
    {'crossing_nationality': [...], 'days': [...]}: every day of a rebuilt partition +- 2, so that each
    line of a rebuilt day has all its candidates and their candidates. A superset (every listed
    crossing|nationality on every listed day) costs a few rows more and changes nothing: the model keeps
    only the batches of the rebuilt partitions. -#}
{% macro deportation_scope(partition_keys) -%}
    {%- set crossing_nationality = [] -%}
    {%- set days = [] -%}
    {%- for key in partition_keys -%}
        {%- do crossing_nationality.append(key[:-11]) -%}
        {%- set day = modules.datetime.date.fromisoformat(key[-10:]) -%}
        {%- for shift in range(-2, 3) -%}
            {%- do days.append((day + modules.datetime.timedelta(days=shift)).isoformat()) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({
        'crossing_nationality': crossing_nationality | unique | sort | list,
        'days': days | unique | sort | list,
    }) }}
{%- endmacro %}


{#- A SQL IN-list of date literals; `(null)` when empty, which matches nothing. -#}
{% macro sql_date_list(days) -%}
    ({%- for day in days %}date '{{ day }}'{{ ", " if not loop.last }}{%- endfor %}
    {%- if not days %}null{% endif %})
{%- endmacro %}


{#- Landing files of KH/TH revisions loaded after `watermark_sql` that superseded an earlier revision: the
    earlier revision's rows left the raw table, so no new row names the partitions of its withdrawn lines;
    only the models' own rows (their lineage) still do. Read from the ingest's control table raw._files. -#}
{% macro superseded_deportation_files(watermark_sql) -%}
    {%- set sql -%}
        select supersedes
        from "{{ this.database }}"."raw"."_files"
        where
            supersedes is not null
            and feed in ('kh_gdi_deportations', 'th_imm_receptions')
            and loaded_at > {{ watermark_sql }}
    {%- endset -%}
    {{ return(partition_values(sql)) }}
{%- endmacro %}


{#- The newest load a model has built from (1900 when it is empty): every KH/TH row loaded up to then is
    in it. Over all its rows, not only the deportation partitions: a build follows every load committed
    before it (the writer lock serialises loads and builds), so a KH/TH row loaded before the newest row of
    another feed was built too. A plain max is read without a scan of the partition keys (0.8 s per query
    on 40 M lineage rows with a `starts_with` filter, about 0 without). -#}
{% macro built_until() -%}
    (select coalesce(max(_loaded_at), timestamp '1900-01-01') from {{ this }})
{%- endmacro %}


{#- Runs a one-column query at execution time and returns its values (sorted, NULLs dropped); an empty
    list at parse time and in a full rebuild, where nothing is filtered. -#}
{% macro partition_values(sql) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set result = run_query(sql) -%}
    {{ return(result.columns[0].values() | reject('none') | map('string') | unique | sort | list) }}
{%- endmacro %}


{#- A SQL IN-list of string literals; `(null)` when empty, which matches nothing. -#}
{% macro sql_string_list(values) -%}
    ({%- for value in values %}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor %}
    {%- if not values %}null{% endif %})
{%- endmacro %}


{#- Pre-hook of a partitioned incremental model: delete the partitions it is about to rebuild (the
    listed ones, plus, with `keep_prefix`, every partition without that prefix; nothing in a full rebuild),
    then record them for the tests that check only rebuilt partitions (macros/audit_scope.sql). The model
    then appends (incremental_strategy='append'): its body yields rows of exactly these partitions, and
    dbt's delete+insert would only delete them again, one more scan of 30-40 M partition keys at 10 M
    raw rows. The body's list and the hook's are the same query, both run before the delete.
    Two deletes, not one with an OR: DuckDB pushes the IN-list and the prefix test each down to the scan,
    but evaluates their OR on every row (at 10 M raw rows: 0.18 s against 0.50 s on each 30 M-row claims
    table, 0.24 s against 0.70 s on the 40 M lineage rows). -#}
{% macro delete_partitions(partition_keys, keep_prefix=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where _partition_key in {{ sql_string_list(partition_keys) }};
        {%- if keep_prefix is not none %}
        delete from {{ this }} where not starts_with(_partition_key, '{{ keep_prefix }}');
        {%- endif %}
    {%- endif %}
    {{ record_partition_builds(partition_keys) }}
{%- endmacro %}


{#- int_deportations_matched: partitions with new KH/TH deliveries since its last build, those holding
    a line of a superseded file (withdrawn lines), plus the partitions of batches whose cited raid now
    resolves to another report or incident (linking can change without a KH/TH load). -#}
{% macro deportations_matched_partitions_to_rebuild() -%}
    {%- set superseded = superseded_deportation_files(built_until()) -%}
    {%- set sql -%}
        {{ deportation_partitions_loaded_after_sql(built_until()) }}
        {%- if superseded %}
        union
        select distinct _partition_key from {{ this }}
        where len(list_filter(_lineage, lambda entry: entry.file_sha256 in {{ sql_string_list(superseded) }})) > 0
        {%- endif %}
        union
        select distinct batches._partition_key
        from {{ this }} as batches
        left join {{ ref('int_raid_incidents_linked') }} as incidents on batches.raid_ref = incidents.report_id
        where
            batches.raid_ref is not null
            and (
                batches.raid_report_id is distinct from incidents.report_id
                or batches.incident_id is distinct from incidents.incident_id
            )
    {%- endset -%}
    {{ return(partition_values(sql)) }}
{%- endmacro %}


{#- fct_deportations: partitions with new KH/TH deliveries since its last build, those with a batch
    int_deportations_matched no longer has (after a superseded file), plus the partitions where a batch's
    raid link differs from int_deportations_matched's (a relinked raid). -#}
{% macro fct_deportations_partitions_to_rebuild() -%}
    {%- set superseded = superseded_deportation_files(built_until()) -%}
    {%- set sql -%}
        {{ deportation_partitions_loaded_after_sql(built_until()) }}
        {%- if superseded %}
        union
        select distinct published._partition_key
        from {{ this }} as published
        anti join {{ ref('int_deportations_matched') }} as batches
            on published.deportation_id = batches.deportation_id
        {%- endif %}
        union
        select distinct batches._partition_key
        from {{ ref('int_deportations_matched') }} as batches
        left join {{ this }} as published on batches.deportation_id = published.deportation_id
        where
            batches.raid_ref is not null
            and (
                published.deportation_id is null
                or batches.raid_report_id is distinct from published.raid_report_id
                or batches.incident_id is distinct from published.incident_id
            )
    {%- endset -%}
    {{ return(partition_values(sql)) }}
{%- endmacro %}


{#- Claims and lineage: 'dep|' + each deportation partition with new KH/TH deliveries since the
    model's last build, or holding rows of a superseded file; every other
    partition (raids, assistance, repatriations, telecom: small) is rebuilt every time. -#}
{% macro claim_partitions_to_rebuild(file_sha_column='_file_sha256') -%}
    {%- set watermark = built_until() -%}
    {%- set superseded = superseded_deportation_files(watermark) -%}
    {%- set sql -%}
        select 'dep|' || partition_key
        from ({{ deportation_partitions_loaded_after_sql(watermark) }})
        {%- if superseded %}
        union
        select distinct _partition_key from {{ this }}
        where
            starts_with(_partition_key, 'dep|')
            and {{ file_sha_column }} in {{ sql_string_list(superseded) }}
        {%- endif %}
    {%- endset -%}
    {{ return(partition_values(sql)) }}
{%- endmacro %}
