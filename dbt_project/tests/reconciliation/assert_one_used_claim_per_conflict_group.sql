-- Every conflict group (one value of one fact row) has exactly one claim the fact uses. A group never spans
-- two partitions: only the partitions rebuilt since this test last passed are checked (macros/audit_scope.sql).
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
    having count_if(is_used) <> 1

)

select * from final
