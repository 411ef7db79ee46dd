with

agencies as (

    select * from {{ ref('agencies') }}

),

final as (

    select
        agency_id,
        abbreviation,
        name,
        name_local,
        country_iso3,
        agency_type,
        feed
    from agencies

)

select * from final
