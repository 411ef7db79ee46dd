{#- One lineage entry: which raw row (feed, table, file, row) a value came from. -#}
{% macro lineage_struct(raw_table) -%}
    {
        'feed': _feed,
        'raw_table': '{{ raw_table }}',
        'file_sha256': _file_sha256,
        'row_number': _row_number
    }
{%- endmacro %}


{#- The latest delivered version of each natural key: later loads win, then later rows in a file. -#}
{% macro is_latest_delivery(key_columns, newest_first='_loaded_at desc, _load_id desc, _row_number desc') -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ newest_first }}
    ) = 1
{%- endmacro %}


{#- Lines delivered more than once, as 64-bit hashes of their key (an aggregate of integers, not of
    text keys): the body of a CTE that latest_deliveries reads. `rows`: SQL of the deliveries. -#}
{% macro revised_lines(rows, key_columns) -%}
    select hash({{ key_columns | join(', ') }}) as line_hash
    from ({{ rows }})
    group by line_hash
    having count(*) > 1
{%- endmacro %}


{#- `rows` (SQL of deliveries) with is_latest_delivery, or only the latest (only_latest=true), without
    sorting every line of the history: a line delivered once is its own latest delivery, so only the lines
    in `revised` (a CTE of revised_lines) go through the window. A hash shared by two lines delivered once
    only sends both through the window, which finds each its own latest: the hash picks the path, never the
    result. -#}
{% macro latest_deliveries(rows, key_columns, revised, only_latest=false) -%}
    {%- set line_hash = 'hash(' ~ key_columns | join(', ') ~ ')' -%}
    select
        *{% if not only_latest %},
        true as is_latest_delivery{% endif %}
    from ({{ rows }})
    where {{ line_hash }} not in (select line_hash from {{ revised }})

    union all

    select
        *{% if not only_latest %},
        {{ is_latest_delivery(key_columns) }} as is_latest_delivery{% endif %}
    from ({{ rows }})
    where {{ line_hash }} in (select line_hash from {{ revised }})
    {%- if only_latest %}
    qualify {{ is_latest_delivery(key_columns) }}
    {%- endif %}
{%- endmacro %}


{#- Incremental filter: rebuild only the partitions that received rows since the last build. -#}
{% macro partitions_loaded_since_last_build(partition_loaded_at='_partition_loaded_at') -%}
    {%- if is_incremental() -%}
        {{ partition_loaded_at }} > (select coalesce(max(_loaded_at), timestamp '1900-01-01') from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
