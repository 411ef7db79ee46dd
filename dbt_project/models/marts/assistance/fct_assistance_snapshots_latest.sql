{{ config(materialized='view') }}

with

snapshots as (

    select * from {{ ref('fct_assistance_snapshots') }}

),

final as (

    select *
    from snapshots
    where as_of_date = (select max(as_of_date) from snapshots)

)

select * from final
