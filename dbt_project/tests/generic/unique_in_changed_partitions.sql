{#- `unique`, over only the partitions of `partitions_of` rebuilt since this test last passed
    (macros/audit_scope.sql): for keys that never span two partitions. Tag the test changed_partitions. -#}
{% test unique_in_changed_partitions(model, column_name, partitions_of, add_prefix='', always=none) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where {{ changed_partitions(partitions_of, add_prefix=add_prefix, always=always) }}
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
