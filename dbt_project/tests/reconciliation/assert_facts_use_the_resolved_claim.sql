-- The deportation fact and the claims table agree: the fact's total is the value of the claim marked used.
-- Checked over the partitions either table rebuilt since this test last passed (macros/audit_scope.sql).
{{ config(tags=['changed_partitions']) }}

with

deportations as (

    select * from {{ ref('fct_deportations') }}
    where {{ changed_partitions(['fct_deportations', 'fct_figure_claims']) }}

),

claims as (

    select * from {{ ref('fct_figure_claims') }}
    where
        fact_table = 'fct_deportations'
        and sex is null
        and is_used
        and {{ changed_partitions(['fct_deportations', 'fct_figure_claims'], add_prefix='dep|') }}

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
