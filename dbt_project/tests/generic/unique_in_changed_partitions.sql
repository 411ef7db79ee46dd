{#- `unique`, over only the partitions of `partitions_of` rebuilt since this test last passed
    (macros/audit_scope.sql). Tag the test changed_partitions.

    By default for keys that never span two partitions: only the changed partitions are grouped. With
    across_partitions=true the key may sit in any partition (a corrected delivery can move a batch to
    another crossing or nationality): the keys of the changed partitions are counted over the whole table.
    Still sound and still cheap: a duplicate that was not there at the last pass has at least one row
    written since, and every row written since is in a changed partition; the big group-by over every key
    becomes a semi-join against the few keys of the night. -#}
{% test unique_in_changed_partitions(model, column_name, partitions_of, add_prefix='', always=none, across_partitions=false) %}
    {%- set changed = changed_partitions(partitions_of, add_prefix=add_prefix, always=always) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    {%- if across_partitions and changed != 'true' %}
    where {{ column_name }} in (select changed_rows.{{ column_name }} from {{ model }} as changed_rows where {{ changed }})
    {%- else %}
    where {{ changed }}
    {%- endif %}
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
