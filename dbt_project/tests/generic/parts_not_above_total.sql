{#- Parts vs totals: the sum of the part rows of each group must not exceed the group's total row. -#}
{% test parts_not_above_total(model, column_name, group_by, is_total) %}
    with sums as (
        select
            {{ group_by }} as group_key,
            sum(case when {{ is_total }} then {{ column_name }} end) as total_value,
            sum(case when not ({{ is_total }}) then {{ column_name }} end) as parts_value
        from {{ model }}
        group by 1
    )

    select *
    from sums
    where parts_value > total_value
{% endtest %}
