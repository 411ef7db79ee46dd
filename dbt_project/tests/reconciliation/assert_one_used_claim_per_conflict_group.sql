-- Every conflict group (one value of one fact row) has exactly one claim the fact uses; a raid group may have
-- none (the incident's figure report does not state that figure: assert_raid_facts_use_the_resolved_claim).
-- A group never spans two partitions: only the partitions rebuilt since this test last passed are checked
-- (macros/audit_scope.sql).
{{ config(tags=['changed_partitions']) }}

with

claims as (

    select * from {{ ref('fct_figure_claims') }}
    where {{ changed_partitions(['fct_figure_claims'], add_prefix='dep|', always="not starts_with(_partition_key, 'dep|')") }}

),

final as (

    select
        conflict_group_id,
        count_if(is_used) as used_claims
    from claims
    group by conflict_group_id
    having count_if(is_used) > 1 or (count_if(is_used) = 0 and not bool_and(fact_table = 'fct_raids'))

)

select * from final
