-- The deportation fact and the claims table agree: the fact's total is the value of the claim marked used.
with

deportations as (

    select * from {{ ref('fct_deportations') }}

),

claims as (

    select * from {{ ref('fct_figure_claims') }}
    where
        fact_table = 'fct_deportations'
        and sex is null
        and is_used

),

final as (

    select
        deportations.deportation_id,
        deportations.persons_total,
        claims.value as used_claim_value
    from deportations
    left join claims on deportations.deportation_id = claims.fact_key
    where claims.value is distinct from deportations.persons_total

)

select * from final
