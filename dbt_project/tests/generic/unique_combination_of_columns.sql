{#- Fails with each combination of the given columns (or expressions) that appears more than once. -#}
{% test unique_combination_of_columns(model, combination) %}
    select
        {% for col in combination %}{{ col }} as key_{{ loop.index }}, {% endfor %}
        count(*) as n_rows
    from {{ model }}
    group by all
    having count(*) > 1
{% endtest %}
