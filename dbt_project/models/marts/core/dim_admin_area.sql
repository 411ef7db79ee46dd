with

admin_areas as (

    select * from {{ ref('admin_areas') }}

),

countries as (

    select * from {{ ref('countries') }}

),

subdivisions as (

    select
        admin1_iso,
        country_iso3,
        1 as admin_level,
        name_en,
        name_local,
        iso_name,
        subdivision_type
    from admin_areas

),

national as (

    select
        countries.iso2 as admin1_iso,
        countries.iso3 as country_iso3,
        0 as admin_level,
        countries.name as name_en,
        cast(null as varchar) as name_local,
        countries.iso_name,
        'Country (national figure)' as subdivision_type
    from countries
    where countries.iso3 in (select distinct country_iso3 from admin_areas)

),

final as (

    select * from subdivisions
    union all
    select * from national

)

select * from final
