{{ config(materialized='table') }}

{#- Every version of every RTP operation with labels resolved to codes and a validity interval,
    so the history mart can answer "what did the fact say on day D". -#}
with

revisions as (

    select * from {{ ref('stg_rtp__raid_revisions') }}

),

sites as (

    select * from {{ ref('sites') }}

),

resolved as (

    select
        revisions.*,
        {{ site_id('revisions.site_label', ['scam_compound', 'border_crossing', 'airport']) }} as site_id,
        {{ country_iso3('revisions.country_label') }} as country_label_iso3,
        {{ agency_id('revisions.lead_agency_label') }} as lead_agency_id
    from revisions

),

located as (

    select
        resolved.*,
        coalesce(resolved.country_label_iso3, sites.country_iso3) as country_iso3,
        coalesce(
            {{ admin1_iso('resolved.province_label', 'coalesce(resolved.country_label_iso3, sites.country_iso3)') }},
            sites.admin1_iso
        ) as admin1_iso
    from resolved
    left join sites on resolved.site_id = sites.site_id

),

versioned as (

    select
        *,
        updated_at as valid_from,
        lead(updated_at) over (partition by raid_id order by version_number) as valid_to,
        min(updated_at) over (partition by raid_id) as first_reported_at,
        max(updated_at) filter (where not is_deleted) over (partition by raid_id) as last_revised_at,
        list({{ lineage_struct('rtp_raids') }}) over (partition by raid_id) as _lineage,
        max(_loaded_at) over (partition by raid_id) as _partition_loaded_at
    from located

),

final as (

    select * from versioned

)

select * from final
