{#- Fails with each combination of the given columns (or expressions) that appears more than once.

    Grouped first by a 64-bit hash of the combination (an aggregate of integers, not of long text keys
    such as a file's sha256); only the hashes seen more than once are grouped again by the columns
    themselves. A hash shared by two different combinations costs that second look, never a false
    failure: the result is exactly the plain group-by's. -#}
{% test unique_combination_of_columns(model, combination) %}
    {%- set combined = combination | join(', ') %}
    with

    repeated_hashes as (

        select hash({{ combined }}) as combination_hash
        from {{ model }}
        group by combination_hash
        having count(*) > 1

    )

    select
        {% for col in combination %}{{ col }} as key_{{ loop.index }}, {% endfor %}
        count(*) as n_rows
    from {{ model }}
    where hash({{ combined }}) in (select combination_hash from repeated_hashes)
    group by all
    having count(*) > 1
{% endtest %}
