with

sites as (

    select * from {{ ref('sites') }}

),

aliases as (

    select * from {{ ref('place_aliases') }}

),

alias_lists as (

    select
        target_id as site_id,
        string_agg(alias, ' | ' order by alias) as aliases
    from aliases
    where target_type <> 'admin1'
    group by target_id

),

final as (

    select
        sites.site_id,
        sites.site_type,
        sites.name,
        sites.country_iso3,
        sites.admin1_iso,
        sites.counterpart_country_iso3,
        sites.counterpart_admin1_iso,
        sites.iata_code,
        alias_lists.aliases,
        sites.note
    from sites
    left join alias_lists on sites.site_id = alias_lists.site_id

)

select * from final
