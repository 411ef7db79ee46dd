{#- Resolution of every claim (macros/claims.sql: resolve_claims). fct_figure_claims runs the same macro
    over only the partitions it rebuilds; this view is the full resolution, for its unit test and docs. -#}
{{ resolve_claims(ref('int_figure_claims_unioned')) }}
