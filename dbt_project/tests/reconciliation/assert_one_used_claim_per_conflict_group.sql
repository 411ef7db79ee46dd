-- Every conflict group (one value of one fact row) has exactly one claim the fact uses.
with

claims as (

    select * from {{ ref('fct_figure_claims') }}

),

final as (

    select
        conflict_group_id,
        count_if(is_used) as used_claims
    from claims
    group by conflict_group_id
    having count_if(is_used) <> 1

)

select * from final
