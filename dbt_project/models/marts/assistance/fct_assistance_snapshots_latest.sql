{{ config(materialized='view') }}

with

snapshots as (

    select * from {{ ref('fct_assistance_snapshots') }}

),

final as (

    select *
    from snapshots
    where as_of_date = (select max(newest.as_of_date) from snapshots as newest)

)

select * from final
