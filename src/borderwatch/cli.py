"""``borderwatch`` command line: every pipeline step, the simulator, and operations (rollback, backfill).

Each command is a thin wrapper over a library function, so what the CLI does is what Airflow does.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from borderwatch.config import Settings, get_settings
from borderwatch.simulator.cli import app as feeds_app

app = typer.Typer(help="BorderWatch: scam-centre crackdown data pipeline.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds", help="The agency feed simulator (serve on loopback, generate files).")
console = Console()

HomeOption = Annotated[Path | None, typer.Option("--home", help="BORDERWATCH_HOME (default: ./var)")]


def _settings(home: Path | None) -> Settings:
    settings = get_settings(home)
    settings.ensure_dirs()
    return settings


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


def _print_row_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(counts.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)


@app.command()
def run(
    home: HomeOption = None,
    port: Annotated[int, typer.Option(help="Simulator port (0 = any free)")] = 0,
    seed: int = 7,
    scale: float = 1.0,
) -> None:
    """The main job: the whole nightly refresh through Airflow (in-process) on the bundled sample feeds."""
    from borderwatch.orchestration.local import run_nightly_in_process
    from borderwatch.simulator.server import SimulatorServer

    settings = _settings(home)
    with SimulatorServer(port=port, seed=seed, scale=scale) as sim:
        console.print(f"[bold]feed simulator[/] serving the sample scenario on {sim.url}")
        console.print("running [bold]warehouse_refresh[/] through Airflow (airflow dags test) ...")
        summary = run_nightly_in_process(settings, simulator_url=sim.url, echo=False)
    _render_run_summary(summary)
    if not summary.get("ok", False):
        console.print(f"[bold red]nightly refresh failed[/]: {summary.get('error')}")
        raise typer.Exit(1)


def _render_run_summary(summary: dict[str, Any]) -> None:
    """Per-feed load report, gate verdict, published version and row counts of one nightly run."""
    loads = summary.get("loads") or []
    if loads:
        table = Table(title="load report (rows in = loaded + quarantined + duplicate)")
        for name in ("feed", "source", "status", "files", "rows in", "loaded", "quarantined", "duplicate"):
            table.add_column(name, justify="left" if name in ("feed", "source", "status") else "right")
        for r in loads:
            table.add_row(
                str(r.get("feed")),
                str(r.get("source", "")),
                str(r.get("status")),
                str(r.get("files_loaded", "")),
                f"{r.get('rows_in', 0):,}",
                f"{r.get('rows_loaded', 0):,}",
                f"{r.get('rows_quarantined', 0):,}",
                f"{r.get('rows_duplicate', 0):,}",
            )
        console.print(table)
    gate = summary.get("gate") or {}
    if gate:
        verdict = "[bold green]passed[/]" if gate.get("passed") else "[bold red]blocked[/]"
        console.print(
            f"quality gate {verdict}: {gate.get('checks', 0)} checks, "
            f"{len(gate.get('blocking_failures') or [])} blocking, {len(gate.get('warnings') or [])} warnings"
            f" — {gate.get('summary_path')}"
        )
        for name in gate.get("blocking_failures") or []:
            console.print(f"  [red]block[/] {name}")
        for name in gate.get("warnings") or []:
            console.print(f"  [yellow]warn[/]  {name}")
    if summary.get("row_counts"):
        title = f"published version {summary.get('version')}"
        if summary.get("unchanged"):
            title = f"nothing new: version {summary.get('version')} keeps serving"
        _print_row_counts(title, summary["row_counts"])
    console.print(
        f"new rows: {summary.get('new_rows', 0):,}; took {summary.get('seconds')} s; "
        f"BI reads {get_settings().current_db if summary.get('version') else '(nothing published)'}"
    )


@app.command()
def refresh(
    home: HomeOption = None,
    feed: Annotated[list[str] | None, typer.Option(help="Only these feeds (repeatable)")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental models from scratch")] = False,
) -> None:
    """The nightly refresh without Airflow: ingest → dbt build → audit → publish."""
    from borderwatch.ingest import render_reports
    from borderwatch.pipeline import PublicationBlocked
    from borderwatch.pipeline import refresh as _refresh

    settings = _settings(home)
    try:
        summary = _refresh(settings, feeds=feed, full_refresh=full_refresh)
    except PublicationBlocked as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from exc
    render_reports(summary.loads)
    if summary.publication:
        pub = summary.publication
        title = f"nothing new: {pub.version} keeps serving" if pub.unchanged else f"published {pub.version}"
        _print_row_counts(title, pub.row_counts)


@app.command()
def ingest(
    home: HomeOption = None,
    feed: Annotated[list[str] | None, typer.Option(help="Only these feeds (repeatable)")] = None,
    inbox: Annotated[bool, typer.Option(help="Also ingest the drop inbox")] = True,
    pull: Annotated[bool, typer.Option(help="Pull the feeds' sources (--no-pull: the inbox only)")] = True,
) -> None:
    """Pull feeds (and the drop inbox) into the landing archive and the raw schema."""
    from borderwatch.ingest import render_reports
    from borderwatch.pipeline import ingest as _ingest

    if not pull and not inbox:
        raise typer.BadParameter("--no-pull with --no-inbox leaves nothing to ingest")
    reports = _ingest(_settings(home), feed if pull else [], include_inbox=inbox)
    render_reports(reports)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


@app.command()
def replay(
    home: HomeOption = None,
    target: Annotated[Path | None, typer.Option(help="Rebuild into this DuckDB file")] = None,
) -> None:
    """Rebuild the raw schema from the landing archive alone.

    Without --target the rebuilt file replaces the build file (raw schema only: run `borderwatch build`
    next); published versions are untouched, so BI keeps reading the current one.
    """
    from borderwatch.ingest import render_reports
    from borderwatch.ingest import replay as _replay
    from borderwatch.locking import build_writer_lock

    settings = _settings(home)
    if target is None:
        with build_writer_lock(settings):
            reports = _replay(settings, None)
    else:
        reports = _replay(settings, target)
    render_reports(reports)


@app.command()
def build(home: HomeOption = None, full_refresh: bool = False) -> None:
    """Run ``dbt build`` on the build file and print row counts per mart."""
    from borderwatch.pipeline import build as _build

    result = _build(_settings(home), full_refresh=full_refresh)
    _print_row_counts("marts", result.row_counts)
    if not result.ok:
        console.print(f"[bold red]dbt build failed[/]: {', '.join(result.failed_tests) or 'see dbt log'}")
        raise typer.Exit(1)


@app.command()
def gate(home: HomeOption = None) -> None:
    """Audit the current build (dbt test results + Great Expectations); publishes nothing."""
    from borderwatch.pipeline import audit, build

    settings = _settings(home)
    result = audit(settings, build(settings))
    _print_json(result.as_dict())
    if not result.passed:
        raise typer.Exit(2)


@app.command()
def publish(
    version: Annotated[str | None, typer.Argument(help="With --rollback: the version to restore")] = None,
    rollback: Annotated[bool, typer.Option("--rollback", help="Move `current` back")] = False,
    home: HomeOption = None,
) -> None:
    """Publish the audited build, or with --rollback move the `current` pointer back."""
    from borderwatch.locking import build_writer_lock
    from borderwatch.publish import rollback as _rollback
    from borderwatch.serving import serve_rollback

    settings = _settings(home)
    if rollback:
        with build_writer_lock(settings):
            pub = _rollback(settings, version)
            serve_rollback(settings, pub)  # PostgreSQL serving warehouse follows, when configured
        console.print(f"[bold green]current[/] now points to {pub.version}")
        _print_row_counts(pub.version, pub.row_counts)
        return
    if version is not None:
        raise typer.BadParameter("a VERSION is only accepted together with --rollback")
    from borderwatch.pipeline import audit, build
    from borderwatch.pipeline import publish as _publish

    result = audit(settings, build(settings))
    pub = _publish(settings, result)
    _print_row_counts(f"published {pub.version}", pub.row_counts)


@app.command()
def versions(home: HomeOption = None) -> None:
    """List published versions; the one `current` points to is marked."""
    from borderwatch.publish import current_version, list_versions

    settings = _settings(home)
    current = current_version(settings)
    for v in list_versions(settings):
        console.print(f"{'*' if v == current else ' '} {v}")


@app.command()
def explain(
    table: Annotated[str, typer.Argument(help="Mart name, e.g. fct_deportations")],
    key: Annotated[str, typer.Argument(help="The row's primary key value")],
    home: HomeOption = None,
) -> None:
    """List the feed rows and landing files behind one mart row."""
    from borderwatch.explain import explain as _explain

    rows = _explain(_settings(home), table, key)
    if not rows:
        console.print(f"no lineage found for {table} {key}")
        raise typer.Exit(1)
    _print_json(rows)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--from", help="First logical date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last logical date, YYYY-MM-DD")],
    home: HomeOption = None,
) -> None:
    """Re-run the refresh for each logical date in a range (idempotent: same marts)."""
    from borderwatch.orchestration.backfill import backfill as _backfill

    _print_json(_backfill(_settings(home), date.fromisoformat(start), date.fromisoformat(end)))


@app.command("airflow-live")
def airflow_live(home: HomeOption = None, port: int = 8080) -> None:
    """Start a live local Airflow (api-server, scheduler, dag-processor, triggerer) and the simulator."""
    from borderwatch.orchestration.local import start_live_airflow

    start_live_airflow(_settings(home), api_port=port)


@app.command()
def docs(home: HomeOption = None) -> None:
    """Generate dbt docs for the warehouse (catalog + manifest + index.html)."""
    from borderwatch.warehouse import docs_generate

    path = docs_generate(_settings(home))
    console.print(f"dbt docs written to {path}")


@app.command()
def seeds(out: Annotated[Path | None, typer.Option(help="Seeds directory")] = None) -> None:
    """Regenerate the ISO parts of the reference seeds from pycountry."""
    from borderwatch.config import REPO_ROOT
    from borderwatch.reference import write_seeds

    write_seeds(out or REPO_ROOT / "seeds")


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="borderwatch")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
