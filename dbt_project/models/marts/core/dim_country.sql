with

countries as (

    select * from {{ ref('countries') }}

),

final as (

    select
        countries.iso3,
        countries.iso2,
        countries.numeric,
        countries.name,
        countries.iso_name,
        countries.fips_10_4,
        countries.code_kind,
        -- FIPS 10-4 code that is another country's ISO alpha-2 (BM: Burma in FIPS, Bermuda in ISO)
        collided.iso3 as fips_collides_with_iso3
    from countries
    left join countries as collided
        on
            countries.fips_10_4 = collided.iso2
            and countries.iso3 <> collided.iso3

)

select * from final
