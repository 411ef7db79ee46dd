{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(claim_partitions_to_rebuild(), keep_prefix='dep|') }}",
    )
}}

{#- Every figure every feed states (all deliveries and revisions), one row per raw row × metric × sex,
    tagged with the fact row it speaks about (fact_table, fact_key) and its conflict group.
    Incremental: deportation claims ('dep|' + crossing|nationality|day, most of the rows) are rebuilt only for
    the partitions with new KH/TH deliveries; the other feeds' claims are small and rebuilt every time
    (macros/incremental_partitions.sql). Every conflict group lies inside one partition. -#}
{%- set dep_partitions = none %}
{%- if is_incremental() %}
    {%- set dep_partitions = [] %}
    {%- for partition in claim_partitions_to_rebuild() %}
        {%- do dep_partitions.append(partition[4:]) %}
    {%- endfor %}
{%- endif %}

with

raid_versions as (

    select * from {{ ref('int_raid_versions_resolved') }}

),

ncct_lines as (

    select * from {{ ref('stg_kh_ncct__raid_lines') }}

),

incidents as (

    select * from {{ ref('int_raid_incidents_linked') }}

),

ncct_reports as (

    select * from {{ ref('int_raid_reports_unioned') }}
    where source_feed = 'kh_ncct_raids'

),

deportations as (

    select * from {{ ref('int_deportations_matched') }}
    {%- if dep_partitions is not none %}
    where _partition_key in {{ sql_string_list(dep_partitions) }}
    {%- endif %}

),

{%- set bulletin_rows -%}
    select
        bulletin_deliveries.* exclude (is_latest_delivery)
    from {{ ref('stg_kh_gdi__deportations') }} as bulletin_deliveries
    {%- if dep_partitions is not none %}
    semi join deportations
        on 'KH-' || bulletin_deliveries.bulletin_no || '-' || bulletin_deliveries.line_no = deportations.kh_record_key
    {%- endif %}
{%- endset %}
{%- set reception_rows -%}
    select
        reception_deliveries.* exclude (is_latest_delivery)
    from {{ ref('stg_th_imm__receptions') }} as reception_deliveries
    {%- if dep_partitions is not none %}
    semi join deportations on 'TH-' || reception_deliveries.reception_no = deportations.th_record_key
    {%- endif %}
{%- endset %}

revised_bulletin_lines as (

    {{ revised_lines(bulletin_rows, ['bulletin_no', 'line_no']) }}

),

revised_receptions as (

    {{ revised_lines(reception_rows, ['reception_no']) }}

),

bulletins as (

    -- every delivery of the lines behind the (rebuilt) batches; the latest one is the current claim
    {{ latest_deliveries(bulletin_rows, ['bulletin_no', 'line_no'], 'revised_bulletin_lines') }}

),

receptions as (

    {{ latest_deliveries(reception_rows, ['reception_no'], 'revised_receptions') }}

),

snapshots as (

    select * from {{ ref('stg_mfa__assistance_snapshots') }}

),

movements as (

    select * from {{ ref('stg_mfa__assistance_movements') }}

),

telecom as (

    select * from {{ ref('stg_nbtc__telecom_actions') }}

),

live_raids as (

    select raid_id
    from raid_versions
    where is_latest_version and not is_deleted

),

rtp_claims as (

    select
        'rtp_raids' as raw_table,
        'rtp:' || raid_versions.raid_id as record_key,
        raid_versions.is_latest_version as is_latest_of_record,
        metrics.metric,
        raid_versions.admin1_iso,
        raid_versions.site_id,
        raid_versions.date_start as period_start,
        raid_versions.date_end as period_end,
        metrics.value,
        coalesce(raid_versions.report_date, cast(raid_versions.updated_at as date)) as as_of_date,
        incidents.incident_id as fact_key,
        incidents.is_figure_report,
        raid_versions._feed,
        raid_versions._file_sha256,
        raid_versions._row_number,
        raid_versions._loaded_at
    from raid_versions
    inner join live_raids on raid_versions.raid_id = live_raids.raid_id
    inner join incidents on raid_versions.raid_id = incidents.report_id
    cross join
        lateral (
            values
            ('persons_detained', raid_versions.persons_detained),
            ('persons_rescued', raid_versions.persons_rescued),
            ('suspects_arrested', raid_versions.suspects_arrested)
        ) as metrics (metric, value)
    where not raid_versions.is_deleted

),

ncct_report_files as (

    -- raid-level figures repeat on every line of a report: one claim per report per delivered file
    select
        *,
        _file_sha256 = arg_max(_file_sha256, _loaded_at) over (partition by report_id) as is_newest_file
    from ncct_lines
    qualify row_number() over (partition by report_id, _file_sha256 order by line_no, _row_number) = 1

),

ncct_claims as (

    select
        'kh_ncct_raids' as raw_table,
        'ncct:' || ncct_report_files.report_id as record_key,
        ncct_report_files.is_newest_file as is_latest_of_record,
        metrics.metric,
        ncct_reports.admin1_iso,
        ncct_reports.site_id,
        ncct_report_files.raid_date as period_start,
        ncct_report_files.raid_date as period_end,
        metrics.value,
        cast(ncct_report_files._loaded_at as date) as as_of_date,
        incidents.incident_id as fact_key,
        incidents.is_figure_report,
        ncct_report_files._feed,
        ncct_report_files._file_sha256,
        ncct_report_files._row_number,
        ncct_report_files._loaded_at
    from ncct_report_files
    inner join ncct_reports on ncct_report_files.report_id = ncct_reports.report_id
    inner join incidents on ncct_report_files.report_id = incidents.report_id
    cross join
        lateral (
            values
            ('persons_detained', ncct_report_files.persons_detained),
            ('persons_rescued', ncct_report_files.persons_rescued),
            ('suspects_arrested', ncct_report_files.suspects_arrested)
        ) as metrics (metric, value)

),

rtp_and_ncct_claims as (

    select * from rtp_claims
    union all
    select * from ncct_claims

),

raid_claims as (

    -- rule largest_report: the incident uses every figure of the report that found the most people
    select
        raw_table,
        record_key,
        is_latest_of_record,
        metric,
        cast(null as varchar) as nationality_iso3,
        cast(null as varchar) as sex,
        admin1_iso,
        site_id,
        period_start,
        period_end,
        value,
        'exact' as qualifier,
        as_of_date,
        'fct_raids' as fact_table,
        fact_key,
        case when is_figure_report then 1 else 2 end as priority,
        'largest_report' as rule,
        'raid|' || fact_key as _partition_key,
        _feed,
        _file_sha256,
        _row_number,
        _loaded_at
    from rtp_and_ncct_claims

),

deportation_claims as (

    select
        'kh_gdi_deportations' as raw_table,
        'KH-' || bulletins.bulletin_no || '-' || bulletins.line_no as record_key,
        bulletins.is_latest_delivery as is_latest_of_record,
        deportations.deportation_id as fact_key,
        deportations.nationality_iso3,
        deportations.crossing_site_id as site_id,
        bulletins.handover_date as period_date,
        bulletins.persons_total,
        bulletins.persons_male,
        bulletins.persons_female,
        2 as priority,
        deportations._partition_key,
        bulletins._feed,
        bulletins._file_sha256,
        bulletins._row_number,
        bulletins._loaded_at
    from bulletins
    inner join deportations
        on 'KH-' || bulletins.bulletin_no || '-' || bulletins.line_no = deportations.kh_record_key

    union all

    select
        'th_imm_receptions' as raw_table,
        'TH-' || receptions.reception_no as record_key,
        receptions.is_latest_delivery as is_latest_of_record,
        deportations.deportation_id as fact_key,
        deportations.nationality_iso3,
        deportations.crossing_site_id as site_id,
        receptions.received_date as period_date,
        receptions.persons_total,
        receptions.persons_male,
        receptions.persons_female,
        1 as priority,
        deportations._partition_key,
        receptions._feed,
        receptions._file_sha256,
        receptions._row_number,
        receptions._loaded_at
    from receptions
    inner join deportations on 'TH-' || receptions.reception_no = deportations.th_record_key

),

deportation_claims_unpivoted as (

    select
        deportation_claims.raw_table,
        deportation_claims.record_key,
        deportation_claims.is_latest_of_record,
        'persons_deported' as metric,
        deportation_claims.nationality_iso3,
        parts.sex,
        cast(null as varchar) as admin1_iso,
        deportation_claims.site_id,
        deportation_claims.period_date as period_start,
        deportation_claims.period_date as period_end,
        parts.value,
        'exact' as qualifier,
        deportation_claims.period_date as as_of_date,
        'fct_deportations' as fact_table,
        deportation_claims.fact_key,
        deportation_claims.priority,
        'receiving_checkpoint_count' as rule,
        'dep|' || deportation_claims._partition_key as _partition_key,
        deportation_claims._feed,
        deportation_claims._file_sha256,
        deportation_claims._row_number,
        deportation_claims._loaded_at
    from deportation_claims
    cross join lateral (
        values
        (cast(null as varchar), deportation_claims.persons_total),
        ('M', deportation_claims.persons_male),
        ('F', deportation_claims.persons_female)
    ) as parts (sex, value)

),

snapshot_claims as (

    select
        'mfa_assistance_snapshots' as raw_table,
        'MFA-' || snapshots.as_of_date || '-' || snapshots.nationality_label as record_key,
        snapshots.is_latest_delivery as is_latest_of_record,
        metrics.metric,
        resolved.nationality_iso3,
        cast(null as varchar) as sex,
        cast(null as varchar) as admin1_iso,
        cast(null as varchar) as site_id,
        cast(null as date) as period_start,
        snapshots.as_of_date as period_end,
        metrics.value,
        'exact' as qualifier,
        snapshots.as_of_date,
        case when resolved.nationality_iso3 = 'ALL' then 'fct_assistance_totals' else 'fct_assistance_snapshots' end
            as fact_table,
        case
            when resolved.nationality_iso3 = 'ALL' then cast(snapshots.as_of_date as varchar)
            else snapshots.as_of_date || '|' || resolved.nationality_iso3
        end as fact_key,
        1 as priority,
        'newest_workbook' as rule,
        'mfa|' || snapshots.as_of_date as _partition_key,
        snapshots._feed,
        snapshots._file_sha256,
        snapshots._row_number,
        snapshots._loaded_at
    from snapshots
    cross join
        lateral (
            select
                case
                    when snapshots.is_total_row then 'ALL'
                    else {{ country_iso3('snapshots.nationality_label') }}
                end as nationality_iso3
        ) as resolved
    cross join lateral (
        values
        ('persons_assisted_cumulative', snapshots.persons_assisted_cumulative),
        ('persons_repatriated_cumulative', snapshots.persons_repatriated_cumulative)
    ) as metrics (metric, value)

),

movement_claims as (

    select
        'mfa_assistance_movements' as raw_table,
        'MOV-' || movements.movement_id as record_key,
        movements.is_latest_delivery as is_latest_of_record,
        case
            when movements.row_type = 'plan' or movements.status = 'planned' then 'persons_repatriation_planned'
            when movements.status = 'scheduled' then 'persons_repatriation_scheduled'
            else 'persons_repatriated'
        end as metric,
        {{ country_iso3('movements.nationality_label') }} as nationality_iso3,
        cast(null as varchar) as sex,
        cast(null as varchar) as admin1_iso,
        cast(null as varchar) as site_id,
        coalesce(movements.period_start, movements.movement_date) as period_start,
        movements.movement_date as period_end,
        movements.persons as value,
        case when movements.status in ('planned', 'scheduled') then 'planned' else 'exact' end as qualifier,
        movements.movement_date as as_of_date,
        case movements.row_type
            when 'plan' then 'fct_repatriation_plans'
            when 'period_total' then 'fct_repatriation_periods'
            else 'fct_repatriations'
        end as fact_table,
        case
            when movements.row_type = 'plan' then coalesce(movements.plan_id, movements.movement_id)
            else movements.movement_id
        end as fact_key,
        1 as priority,
        'newest_delivery' as rule,
        -- a plan's conflict group spans its movements: one partition per fact row
        'mov|' || case
            when movements.row_type = 'plan' then coalesce(movements.plan_id, movements.movement_id)
            else movements.movement_id
        end as _partition_key,
        movements._feed,
        movements._file_sha256,
        movements._row_number,
        movements._loaded_at
    from movements

),

telecom_claims as (

    select
        'nbtc_telecom' as raw_table,
        'NBTC-' || strftime(telecom.month_start, '%Y-%m') || '-' || telecom.province_label || '-'
        || telecom.action_type as record_key,
        telecom.is_latest_delivery as is_latest_of_record,
        telecom.action_type as metric,
        cast(null as varchar) as nationality_iso3,
        cast(null as varchar) as sex,
        resolved.admin1_iso,
        cast(null as varchar) as site_id,
        telecom.month_start as period_start,
        cast(last_day(telecom.month_start) as date) as period_end,
        telecom.action_count as value,
        'exact' as qualifier,
        cast(coalesce(telecom.reported_at, telecom._loaded_at) as date) as as_of_date,
        'fct_telecom_actions' as fact_table,
        resolved.telecom_action_id as fact_key,
        1 as priority,
        'newest_delivery' as rule,
        'tel|' || resolved.telecom_action_id as _partition_key,
        telecom._feed,
        telecom._file_sha256,
        telecom._row_number,
        telecom._loaded_at
    from telecom
    cross join
        lateral (
            select
                case
                    when telecom.is_national then 'TH'
                    else {{ admin1_iso('telecom.province_label', "'THA'") }}
                end as admin1_iso
        ) as admin1
    cross join lateral (
        select
            admin1.admin1_iso,
            strftime(telecom.month_start, '%Y-%m') || '|'
            || coalesce(admin1.admin1_iso, 'unmapped:' || {{ label_key('telecom.province_label') }})
            || '|' || telecom.action_type as telecom_action_id
    ) as resolved

),

unioned as (

    select * from raid_claims
    union all by name
    select * from deportation_claims_unpivoted
    union all by name
    select * from snapshot_claims
    union all by name
    select * from movement_claims
    union all by name
    select * from telecom_claims

),

final as (

    select
        substr(md5(_file_sha256 || '|' || _row_number || '|' || metric || '|' || coalesce(sex, 'T')), 1, 20)
            as claim_id,
        _feed as source_feed,
        'stated' as figure_origin,
        *,
        fact_table || ':' || fact_key || ':' || metric || ':' || coalesce(sex, 'T') as conflict_group_id
    from unioned
    where value is not null

)

select * from final
