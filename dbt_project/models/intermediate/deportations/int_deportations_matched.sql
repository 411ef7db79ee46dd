{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(deportations_matched_partitions_to_rebuild()) }}",
    )
}}

{#- Match rule (one handover batch = one row): a Cambodian GDI bulletin line and a Thai Immigration
    reception are the same batch when they have the same nationality, the same crossing site
    (Poipet and Aranyaprathet are one crossing) and the reception date is 0 or 1 day after the handover
    date. Among several candidates the pair with the smallest day gap, then the closest totals, wins, and
    each line is used once (mutual best candidate). Unmatched lines stay as one-sided rows.
    Incremental: a partition is crossing|nationality|day and matching looks one day across, so a night
    rebuilds only the days around new deliveries and the partitions of relinked raids, reading their
    lines +- 2 days (macros/incremental_partitions.sql). -#}
{%- set rebuilt = deportations_matched_partitions_to_rebuild() if is_incremental() else none %}
{%- set scope = deportation_scope(rebuilt) if rebuilt is not none else none %}

with

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

{#- labels are mapped once per distinct (checkpoint, nationality) pair, not once per row; the staging views
    are named at each use (a CTE read twice is materialised whole by DuckDB), and reading them without
    is_latest_delivery skips their window over all history #}

bulletin_labels as (

    select
        checkpoint_label,
        nationality_label,
        {{ site_id('checkpoint_label', ['border_crossing', 'airport']) }} as crossing_site_id,
        {{ label_key('checkpoint_label') }} as checkpoint_key,
        {{ country_iso3('nationality_label') }} as nationality_iso3,
        {{ label_key('nationality_label') }} as nationality_key,
        {{ deportation_side_partition_key('checkpoint_label', 'nationality_label') }} as _crossing_nationality
    from (
        select distinct
            checkpoint_label,
            nationality_label
        from {{ ref('stg_kh_gdi__deportations') }}
    )

),

reception_labels as (

    select
        checkpoint_label,
        nationality_label,
        {{ site_id('checkpoint_label', ['border_crossing', 'airport']) }} as crossing_site_id,
        {{ label_key('checkpoint_label') }} as checkpoint_key,
        {{ country_iso3('nationality_label') }} as nationality_iso3,
        {{ label_key('nationality_label') }} as nationality_key,
        {{ deportation_side_partition_key('checkpoint_label', 'nationality_label') }} as _crossing_nationality
    from (
        select distinct
            checkpoint_label,
            nationality_label
        from {{ ref('stg_th_imm__receptions') }}
    )

),
{%- if rebuilt is not none %}

{#- incremental: every delivery of the lines with a delivery in scope (the latest one decides) #}
bulletin_lines_in_scope as (

    select distinct
        deliveries.bulletin_no,
        deliveries.line_no
    from {{ ref('stg_kh_gdi__deportations') }} as deliveries
    inner join bulletin_labels
        on
            deliveries.checkpoint_label is not distinct from bulletin_labels.checkpoint_label
            and deliveries.nationality_label is not distinct from bulletin_labels.nationality_label
    where
        bulletin_labels._crossing_nationality in {{ sql_string_list(scope.crossing_nationality) }}
        and deliveries.handover_date in {{ sql_date_list(scope.days) }}

),

receptions_in_scope as (

    select distinct deliveries.reception_no
    from {{ ref('stg_th_imm__receptions') }} as deliveries
    inner join reception_labels
        on
            deliveries.checkpoint_label is not distinct from reception_labels.checkpoint_label
            and deliveries.nationality_label is not distinct from reception_labels.nationality_label
    where
        reception_labels._crossing_nationality in {{ sql_string_list(scope.crossing_nationality) }}
        and deliveries.received_date in {{ sql_date_list(scope.days) }}

),
{%- endif %}

{#- each line's deliveries (in scope), and the same with their labels, as SQL text: the macros below read
    them more than once (a CTE read more than once is materialised whole by DuckDB) #}
{%- set bulletin_deliveries -%}
    select
        deliveries.* exclude (is_latest_delivery)
    from {{ ref('stg_kh_gdi__deportations') }} as deliveries
    {%- if rebuilt is not none %}
    semi join bulletin_lines_in_scope
        on
            deliveries.bulletin_no = bulletin_lines_in_scope.bulletin_no
            and deliveries.line_no = bulletin_lines_in_scope.line_no
    {%- endif %}
{%- endset %}
{%- set bulletin_rows -%}
    select
        deliveries.*,
        bulletin_labels.* exclude (checkpoint_label, nationality_label)
    from ({{ bulletin_deliveries }}) as deliveries
    inner join bulletin_labels
        on
            deliveries.checkpoint_label is not distinct from bulletin_labels.checkpoint_label
            and deliveries.nationality_label is not distinct from bulletin_labels.nationality_label
{%- endset %}
{%- set reception_deliveries -%}
    select
        deliveries.* exclude (is_latest_delivery)
    from {{ ref('stg_th_imm__receptions') }} as deliveries
    {%- if rebuilt is not none %}
    semi join receptions_in_scope on deliveries.reception_no = receptions_in_scope.reception_no
    {%- endif %}
{%- endset %}
{%- set reception_rows -%}
    select
        deliveries.*,
        reception_labels.* exclude (checkpoint_label, nationality_label)
    from ({{ reception_deliveries }}) as deliveries
    inner join reception_labels
        on
            deliveries.checkpoint_label is not distinct from reception_labels.checkpoint_label
            and deliveries.nationality_label is not distinct from reception_labels.nationality_label
{%- endset %}

revised_bulletin_lines as (

    {{ revised_lines(bulletin_deliveries, ['bulletin_no', 'line_no']) }}

),

revised_receptions as (

    {{ revised_lines(reception_deliveries, ['reception_no']) }}

),

bulletins as (

    -- the latest delivery of each line
    {{ latest_deliveries(bulletin_rows, ['bulletin_no', 'line_no'], 'revised_bulletin_lines', only_latest=true) }}

),

receptions as (

    {{ latest_deliveries(reception_rows, ['reception_no'], 'revised_receptions', only_latest=true) }}

),

destination_countries as (

    -- (not named `label`: the macro's lookup table has a column of that name)
    select
        destination_label,
        {{ country_iso3('destination_label') }} as country_iso3
    from (
        select distinct destination_label from {{ ref('stg_kh_gdi__deportations') }}
        where destination_label is not null
    )

),

origin_countries as (

    select
        from_country_label,
        {{ country_iso3('from_country_label') }} as country_iso3
    from (
        select distinct from_country_label from {{ ref('stg_th_imm__receptions') }}
        where from_country_label is not null
    )

),

sending as (

    select
        'KH-' || bulletin_no || '-' || line_no as kh_record_key,
        handover_date,
        crossing_site_id,
        checkpoint_key,
        nationality_iso3,
        nationality_key,
        destination_countries.country_iso3 as destination_iso3,
        persons_total,
        persons_male,
        persons_female,
        persons_minor,
        remarks,
        nullif(regexp_extract(remarks, '(RTP-[0-9]{4}-[0-9]+|KH-NCCT-[0-9]{4}-[0-9]+)'), '') as raid_ref,
        _loaded_at,
        {{ lineage_struct('kh_gdi_deportations') }} as lineage
    from bulletins
    left join destination_countries on bulletins.destination_label = destination_countries.destination_label
    {%- if rebuilt is not none %}
    where
        _crossing_nationality in {{ sql_string_list(scope.crossing_nationality) }}
        and handover_date in {{ sql_date_list(scope.days) }}
    {%- endif %}

),

receiving as (

    select
        'TH-' || reception_no as th_record_key,
        received_date,
        crossing_site_id,
        checkpoint_key,
        nationality_iso3,
        nationality_key,
        origin_countries.country_iso3 as from_country_iso3,
        persons_total,
        persons_male,
        persons_female,
        tm35_no,
        persons_minor,
        remarks,
        nullif(regexp_extract(remarks, '(RTP-[0-9]{4}-[0-9]+|KH-NCCT-[0-9]{4}-[0-9]+)'), '') as raid_ref,
        _loaded_at,
        {{ lineage_struct('th_imm_receptions') }} as lineage
    from receptions
    left join origin_countries on receptions.from_country_label = origin_countries.from_country_label
    {%- if rebuilt is not none %}
    where
        _crossing_nationality in {{ sql_string_list(scope.crossing_nationality) }}
        and received_date in {{ sql_date_list(scope.days) }}
    {%- endif %}

),

candidates as (

    select
        sending.kh_record_key,
        receiving.th_record_key,
        lag.days as lag_days,
        abs(sending.persons_total - receiving.persons_total) as total_gap
    from sending
    -- received the same day or the next: two equality joins, not a range over every line of a crossing
    cross join (values (0), (1)) as lag (days)
    inner join receiving
        on
            sending.nationality_iso3 = receiving.nationality_iso3
            and sending.crossing_site_id = receiving.crossing_site_id
            and receiving.received_date = sending.handover_date + lag.days

),

ranked as (

    select
        *,
        row_number() over (
            partition by kh_record_key order by lag_days, total_gap, th_record_key
        ) as rank_for_bulletin,
        row_number() over (
            partition by th_record_key order by lag_days, total_gap, kh_record_key
        ) as rank_for_reception
    from candidates

),

pairs as (

    select
        kh_record_key,
        th_record_key
    from ranked
    where
        rank_for_bulletin = 1
        and rank_for_reception = 1

),

sides as (

    -- the full outer join of sending, pairs and receiving, as a union: every hash table holds the pairs
    -- (a few per cent of the lines), never a side's wide rows
    select
        sending,
        receiving
    from pairs
    inner join sending on pairs.kh_record_key = sending.kh_record_key
    inner join receiving on pairs.th_record_key = receiving.th_record_key

    union all

    select
        sending,
        null as receiving
    from sending
    anti join pairs on sending.kh_record_key = pairs.kh_record_key

    union all

    select
        null as sending,
        receiving
    from receiving
    anti join pairs on receiving.th_record_key = pairs.th_record_key

),

joined as (

    select
        coalesce(sending.kh_record_key, receiving.th_record_key) as deportation_id,
        sending.kh_record_key,
        receiving.th_record_key,
        coalesce(sending.handover_date, receiving.received_date) as handover_date,
        receiving.received_date,
        case when sending.kh_record_key is not null then 'KHM' else receiving.from_country_iso3 end
            as from_country_iso3,
        case when receiving.th_record_key is not null then 'THA' else sending.destination_iso3 end
            as to_country_iso3,
        coalesce(sending.crossing_site_id, receiving.crossing_site_id) as crossing_site_id,
        coalesce(sending.nationality_iso3, receiving.nationality_iso3) as nationality_iso3,
        case
            when sending.kh_record_key is not null and receiving.th_record_key is not null then 'both'
            when sending.kh_record_key is not null then 'sending'
            else 'receiving'
        end as reported_by,
        sending.persons_total as sending_persons_total,
        receiving.persons_total as receiving_persons_total,
        -- rule receiving_checkpoint_count: the receiving checkpoint counts people in person (one TM.35 each)
        case when receiving.th_record_key is not null then receiving.persons_total else sending.persons_total end
            as persons_total,
        case when receiving.th_record_key is not null then receiving.persons_male else sending.persons_male end
            as persons_male,
        case when receiving.th_record_key is not null then receiving.persons_female else sending.persons_female end
            as persons_female,
        -- minors: the receiving count when it states one, else the sending bulletin's
        coalesce(receiving.persons_minor, sending.persons_minor) as persons_minor,
        nullif(
            concat_ws(
                ' | ',
                case when sending.remarks is not null then 'KH-GDI: ' || sending.remarks end,
                case when receiving.remarks is not null then 'TH-IMM: ' || receiving.remarks end
            ),
            ''
        ) as notes,
        coalesce(sending.raid_ref, receiving.raid_ref) as raid_ref,
        receiving.tm35_no,
        -- the two countries disagree, or a side's own male + female differs from its total
        coalesce(
            sending.persons_total <> receiving.persons_total
            or sending.persons_male <> receiving.persons_male
            or sending.persons_female <> receiving.persons_female,
            false
        )
        or coalesce(sending.persons_male + sending.persons_female <> sending.persons_total, false)
        or coalesce(receiving.persons_male + receiving.persons_female <> receiving.persons_total, false)
            as has_conflict,
        {{ deportation_partition_key(
            "coalesce(
                sending.crossing_site_id,
                receiving.crossing_site_id,
                'unmapped:' || sending.checkpoint_key,
                'unmapped:' || receiving.checkpoint_key
            )
            || '|'
            || coalesce(
                sending.nationality_iso3,
                receiving.nationality_iso3,
                'unmapped:' || sending.nationality_key,
                'unmapped:' || receiving.nationality_key
            )",
            'coalesce(sending.handover_date, receiving.received_date)'
        ) }} as _partition_key,
        greatest(
            coalesce(sending._loaded_at, receiving._loaded_at),
            coalesce(receiving._loaded_at, sending._loaded_at)
        ) as _loaded_at,
        list_filter([sending.lineage, receiving.lineage], lambda entry: entry is not null) as _lineage
    from sides

),

final as (

    select
        joined.*,
        incidents.report_id as raid_report_id,
        incidents.incident_id
    from joined
    left join incidents on joined.raid_ref = incidents.report_id
    {%- if rebuilt is not none %}
    -- the lines read around the rebuilt days make batches of other days too: only the rebuilt ones stay
    where joined._partition_key in {{ sql_string_list(rebuilt) }}
    {%- endif %}

)

select * from final
