{#- ISO 3166-2 shape: country alpha-2, hyphen, 1-3 alphanumerics; Cambodian codes are never zero-padded. -#}
{% test is_iso_3166_2(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and (
            not regexp_full_match({{ column_name }}, '[A-Z]{2}-[0-9A-Z]{1,3}')
            or regexp_full_match({{ column_name }}, 'KH-0[0-9]+')
        )
{% endtest %}
