{#- One row per calendar day 2020-01-01 .. 2030-12-31: the spine dim_date decorates. -#}
with

spine as (

    select cast(range as date) as date_day
    from range(date '2020-01-01', date '2031-01-01', interval 1 day)

),

final as (

    select * from spine

)

select * from final
