{#- Buddhist Era year: BE = CE + 543 (2568 = 2025). -#}
{% macro be_year(date_expr) -%}
    (year({{ date_expr }}) + 543)
{%- endmacro %}


{#- Thai government fiscal year (CE), starting 1 October: 2024-10-01 falls in FY2025 (= FY2568 BE). -#}
{% macro thai_fiscal_year(date_expr) -%}
    (year({{ date_expr }}) + case when month({{ date_expr }}) >= 10 then 1 else 0 end)
{%- endmacro %}
