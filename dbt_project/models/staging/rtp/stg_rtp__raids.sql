with

revisions as (

    select * from {{ ref('stg_rtp__raid_revisions') }}

),

final as (

    select *
    from revisions
    where
        is_latest_version
        and not is_deleted

)

select * from final
