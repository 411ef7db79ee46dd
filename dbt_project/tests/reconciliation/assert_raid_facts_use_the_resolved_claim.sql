-- fct_raids and the claims table agree: each of an incident's figures is the value of the claim marked used,
-- and a figure the incident's figure report does not state (NULL) has no used claim.
with

raids as (

    select
        incident_id,
        metrics.metric,
        metrics.value
    from {{ ref('fct_raids') }}
    cross join
        lateral (
            values
            ('persons_detained', persons_detained),
            ('persons_rescued', persons_rescued),
            ('suspects_arrested', suspects_arrested)
        ) as metrics (metric, value)

),

used_claims as (

    select
        fact_key as incident_id,
        metric,
        value
    from {{ ref('fct_figure_claims') }}
    where fact_table = 'fct_raids' and is_used

),

final as (

    select
        coalesce(raids.incident_id, used_claims.incident_id) as incident_id,
        coalesce(raids.metric, used_claims.metric) as metric,
        raids.value as fact_value,
        used_claims.value as used_claim_value
    from raids
    full join used_claims on raids.incident_id = used_claims.incident_id and raids.metric = used_claims.metric
    where raids.value is distinct from used_claims.value

)

select * from final
