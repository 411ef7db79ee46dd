{#- Matching key for labels in any script: lower case, trimmed, single spaces (reference.py _key). -#}
{% macro label_key(expr) -%}
    lower(trim(regexp_replace(cast({{ expr }} as varchar), '\s+', ' ', 'g')))
{%- endmacro %}


{#- ISO alpha-3 for a nationality or country label ("Chinese / จีน", "ថៃ", "THA", "Cambodia").
    Tries the whole label, then each side of a bilingual "English / Thai" label; NULL when unknown
    (a warn-level test lists unmapped labels: add them to seeds via borderwatch.reference). -#}
{% macro country_iso3(expr) -%}
    coalesce(
        {%- for part in [expr, "split_part(" ~ expr ~ ", '/', 1)", "split_part(" ~ expr ~ ", '/', 2)"] %}
        (
            select max(nl.nationality_iso3)
            from {{ ref('nationality_labels') }} as nl
            where {{ label_key('nl.label') }} = {{ label_key(part) }}
        ){{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- Site id for a place label, trying site types in priority order (a raid's "Poipet" is the compound,
    a checkpoint's "Poipet" is the crossing). -#}
{% macro site_id(expr, site_types) -%}
    coalesce(
        {%- for site_type in site_types %}
        (
            select max(pa.target_id)
            from {{ ref('place_aliases') }} as pa
            where pa.target_type = '{{ site_type }}'
                and {{ label_key('pa.alias') }} = {{ label_key(expr) }}
        ),
        {%- endfor %}
        cast(null as varchar)
    )
{%- endmacro %}


{#- ISO 3166-2 code for a province label, restricted to a country when one is known. -#}
{% macro admin1_iso(expr, country_iso3_expr='null') -%}
    (
        select max(pa.target_id)
        from {{ ref('place_aliases') }} as pa
        where pa.target_type = 'admin1'
            and {{ label_key('pa.alias') }} = {{ label_key(expr) }}
            and (
                {{ country_iso3_expr }} is null
                or pa.target_id like (
                    select max(c.iso2) from {{ ref('countries') }} as c where c.iso3 = {{ country_iso3_expr }}
                ) || '-%'
            )
    )
{%- endmacro %}


{#- Agency id from an id, abbreviation, English or local name; "CNP/RTP joint" → its first agency. -#}
{% macro agency_id(expr) -%}
    coalesce(
        {%- for part in [expr, "regexp_extract(" ~ expr ~ ", '^[A-Za-z-]+')"] %}
        (
            select max(ag.agency_id)
            from {{ ref('agencies') }} as ag
            where {{ label_key(part) }} in (
                {{ label_key('ag.agency_id') }},
                {{ label_key('ag.abbreviation') }},
                {{ label_key('ag.name') }},
                {{ label_key('ag.name_local') }}
            )
        ){{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- Sex code from a JSON breakdown's label: M / F, U for "not stated" (null, blank, U, unknown);
    NULL for any other text, which is never mapped: the cell leaves the facts and is listed in
    fct_reconciliation under rule unknown_label (KH-NCCT labels are checked by the loader, parse: label). -#}
{% macro sex_code(expr) -%}
    case
        when nullif(trim({{ expr }}), '') is null then 'U'
        when upper(trim({{ expr }})) in ('M', 'MALE', 'ชาย', 'ប្រុស') then 'M'
        when upper(trim({{ expr }})) in ('F', 'FEMALE', 'หญิง', 'ស្រី') then 'F'
        when upper(trim({{ expr }})) in ('U', 'UNKNOWN') then 'U'
    end
{%- endmacro %}


{#- Age group adult / minor / unknown (null or blank = not stated = unknown); NULL for any other text
    (listed under rule unknown_label, never defaulted). -#}
{% macro age_group_code(expr) -%}
    case
        when nullif(trim({{ expr }}), '') is null then 'unknown'
        when lower(trim({{ expr }})) in ('adult', 'ผู้ใหญ่', 'ពេញវ័យ') then 'adult'
        when lower(trim({{ expr }})) in ('minor', 'child', 'เด็ก', 'ผู้เยาว์', 'អនីតិជន') then 'minor'
        when lower(trim({{ expr }})) = 'unknown' then 'unknown'
    end
{%- endmacro %}
