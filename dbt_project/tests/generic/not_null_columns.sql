{#- `not_null` on several columns of one model, as one node and one scan (a view is computed once, not
    once per column). Fails with one row per null cell, naming its column: the rows, and the count, that
    one `not_null` test per column would return. -#}
{% test not_null_columns(model, columns) %}
    select column_name
    from (
        select
            unnest([
                {%- for column in columns %}
                    if({{ column }} is null, '{{ column }}', null){{ ',' if not loop.last }}
                {%- endfor %}
            ]) as column_name
        from {{ model }}
        where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
    )
    where column_name is not null
{% endtest %}
