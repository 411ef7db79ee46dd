{#- Cumulative series: fails on each row whose value is below the previous row of the same series. -#}
{% test never_decreasing(model, column_name, partition_by, order_by) %}
    with ordered as (
        select
            {{ partition_by }} as series_key,
            {{ order_by }} as series_order,
            {{ column_name }} as series_value,
            lag({{ column_name }}) over (partition by {{ partition_by }} order by {{ order_by }}) as previous_value
        from {{ model }}
    )

    select *
    from ordered
    where series_value < previous_value
{% endtest %}
