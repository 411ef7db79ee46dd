"""A synthetic build file shaped like the warehouse contract, for gate and publish tests.

The real marts come from dbt (another module); these tests only need tables with the agreed names and
columns, valid by default, with switches that plant a known number of violations.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.config import Settings, get_settings

MART_TABLES = (
    "fct_raids",
    "fct_raid_persons",
    "fct_deportations",
    "fct_repatriations",
    "fct_assistance_snapshots",
    "fct_telecom_actions",
    "fct_figure_claims",
    "dim_country",
    "dim_admin_area",
    "dim_site",
    "dim_agency",
    "dim_date",
)


def make_build(
    path: Path,
    *,
    raids: int = 1200,
    negative_detained: int = 0,
    be_years: int = 0,
    bad_sex_totals: int = 0,
    with_files: bool = True,
    loaded_at: datetime | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """Create (or replace) a DuckDB build file with every mart the gate and publisher expect."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    loaded = (loaded_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema reference; create schema raw")
        con.execute(
            """
            create table reference.countries as
            select * from (values ('THA', 'Thailand'), ('KHM', 'Cambodia'), ('MMR', 'Myanmar'),
                                  ('CHN', 'China'), ('IDN', 'Indonesia'), ('VNM', 'Viet Nam'))
                   as t(iso3, name);
            create table marts.dim_country as select iso3, name from reference.countries;
            create table marts.dim_admin_area as
            select * from (values ('TH-63', 'Tak'), ('TH-27', 'Sa Kaeo')) as t(admin1_iso, name);
            create table marts.dim_site as
            select * from (values ('KK_PARK', 'KK Park'), ('POIPET', 'Poipet')) as t(site_id, name);
            create table marts.dim_agency as
            select * from (values ('RTP', 'Royal Thai Police'), ('KH-GDI', 'GDI')) as t(agency_id, name);
            create table marts.dim_date as
            select (date '2024-01-01' + i::int) as date_day from range(731) r(i);
            """
        )
        con.execute(
            f"""
            create table marts.fct_raids as
            select 'R' || lpad(i::varchar, 6, '0') as raid_id,
                   case when i < {be_years} then date '2567-01-01' + (i % 300)::int
                        else date '2024-01-01' + (i % 400)::int end as date_start,
                   null::date as date_end, 'day' as date_precision,
                   (['THA', 'MMR', 'KHM'])[1 + i % 3] as country_iso3, 'TH-63' as admin1_iso,
                   'KK_PARK' as site_id, 'RTP' as lead_agency_id,
                   case when i < {negative_detained} then -1 else 10 + i % 50 end as persons_detained,
                   5 as persons_rescued, 1 as suspects_arrested, 1 as source_count,
                   timestamp '2025-01-01 00:00:00' as first_reported_at,
                   timestamp '2025-01-02 00:00:00' as last_revised_at, false as has_conflict
            from range({raids}) r(i)
            """
        )
        con.execute(
            """
            create table marts.fct_raid_persons as
            select raid_id, 'CHN' as nationality_iso3, 'M' as sex, 3 as persons, false as is_suppressed
            from marts.fct_raids
            """
        )
        con.execute(
            f"""
            create table marts.fct_deportations as
            select 'D' || i as deportation_id, date '2025-01-01' + (i % 60)::int as handover_date,
                   'KHM' as from_country_iso3, 'THA' as to_country_iso3, 'POIPET' as crossing_site_id,
                   'THA' as nationality_iso3, 20 as persons_total,
                   case when i < {bad_sex_totals} then 15 else 12 end as persons_male, 8 as persons_female,
                   null::varchar as raid_id, 'both' as reported_by, false as has_conflict
            from range(300) r(i)
            """
        )
        con.execute(
            """
            create table marts.fct_repatriations as
            select 'M' || i as repatriation_id, date '2025-02-01' + (i % 40)::int as movement_date,
                   case when i % 2 = 0 then 'executed' else 'planned' end as status,
                   'THA' as held_in_country_iso3, null::varchar as transit_country_iso3,
                   'CHN' as destination_country_iso3, 'CHN' as nationality_iso3, 'air' as mode,
                   'MAE_SOT' as departure_site_id, 30 as persons
            from range(80) r(i);
            create table marts.fct_assistance_snapshots as
            select d as as_of_date, n as nationality_iso3, 100 * k + 500 as persons_assisted_cumulative,
                   50 * k + 100 as persons_repatriated_cumulative
            from (select date '2025-01-31' as d, 1 as k union all select date '2025-02-28', 2
                  union all select date '2025-03-31', 3) dates,
                 (select unnest(['CHN', 'IDN', 'ALL']) as n);
            create view marts.fct_assistance_snapshots_latest as
            select * from marts.fct_assistance_snapshots
            where as_of_date = (select max(as_of_date) from marts.fct_assistance_snapshots);
            create table marts.fct_telecom_actions as
            select date '2025-01-01' + to_months(m) as month, a as admin1_iso, t as action_type,
                   100 + m as count
            from range(3) r(m), (select unnest(['TH-63', 'TH-27', 'ALL']) as a),
                 (select unnest(['sims_suspended', 'towers_removed']) as t);
            create table marts.fct_figure_claims as
            select 'C' || i as claim_id, 7372 + i as value, 'exact' as qualifier,
                   date '2025-03-31' as as_of_date, null::varchar as conflict_group_id,
                   'accepted' as resolution, false as is_suppressed
            from range(5) r(i);
            """
        )
        if with_files:
            con.execute(
                """
                create table raw._files (feed varchar, file_sha256 varchar, file_name varchar, status varchar,
                    load_id varchar, rows_in integer, rows_loaded integer, rows_quarantined integer,
                    rows_duplicate integer, loaded_at timestamp)
                """
            )
            feeds = [
                "kh_gdi_deportations",
                "mfa_assistance",
                "nbtc_telecom",
                "rtp_raids",
                "th_imm_receptions",
            ]
            for feed in feeds:
                con.execute(
                    "insert into raw._files values (?, 'sha', ?, 'loaded', 'L1', 1, 1, 0, 0, ?)",
                    [feed, f"{feed}.csv", loaded],
                )
        for table in drop:
            con.execute(f"drop table marts.{table}")
        con.execute("checkpoint")
    finally:
        con.close()
    return path


@dataclasses.dataclass
class FakeBuildResult:
    """Stands in for borderwatch.warehouse.BuildResult (only what the gate reads)."""

    ok: bool = True
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def make_settings(home: Path, **overrides: Any) -> Settings:
    """Settings rooted in ``home`` with its directories created."""
    settings = dataclasses.replace(get_settings(home), **overrides)
    settings.ensure_dirs()
    return settings
