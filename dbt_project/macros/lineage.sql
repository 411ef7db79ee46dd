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


{#- Incremental filter: rebuild only the partitions that received rows since the last build. -#}
{% macro partitions_loaded_since_last_build(partition_loaded_at='_partition_loaded_at') -%}
    {%- if is_incremental() -%}
        {{ partition_loaded_at }} > (select coalesce(max(_loaded_at), timestamp '1900-01-01') from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
