{#- Every foreign key of one model in one test: `relationships` per key, as one node.

    keys: a list of {column, to (a model name), field}. Fails with one row per child value that has no
    parent (column_name, value, parent): the same rows N `relationships` tests would return, named by key,
    so the gate's report still says which key broke. One node instead of one per key: at 1 M rows a test's
    fixed cost in dbt (a node, a statement, a round trip) is most of what a relationships query costs. -#}
{% test foreign_keys(model, keys) %}
    {%- for key in keys %}
        select
            '{{ key.column }}' as column_name,
            cast(child.{{ key.column }} as varchar) as value,
            '{{ key.to }}.{{ key.field }}' as parent
        from {{ model }} as child
        left join {{ ref(key.to) }} as parent_table
            on child.{{ key.column }} = parent_table.{{ key.field }}
        where child.{{ key.column }} is not null and parent_table.{{ key.field }} is null
        {{ 'union all' if not loop.last }}
    {%- endfor %}
{% endtest %}
