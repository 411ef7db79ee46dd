"""``borderwatch`` command line: every pipeline step, the simulator, and operations (rollback, backfill).

Each command is a thin wrapper over a library function, so what the CLI does is what Airflow does. An
operator gets one line per error naming the fix (``BORDERWATCH_DEBUG=1`` shows the traceback), exit code 2
for usage errors (bad options, dates, settings, a home that was never initialised) and 1 when the work
itself failed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from borderwatch.config import Settings, SettingsError, get_settings, init_home, installed_settings
from borderwatch.simulator.cli import app as feeds_app

DEBUG_ENV = "BORDERWATCH_DEBUG"
USAGE_EXIT = 2
FAILURE_EXIT = 1
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_DISK_FULL_TEXT = ("no space left", "file too large", "disk quota")

console = Console()
err_console = Console(stderr=True)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    more = f" (+{len(lines) - 1} more lines; {DEBUG_ENV}=1 shows everything)" if len(lines) > 1 else ""
    return lines[0] + more


def _os_error_message(exc: OSError) -> str:
    where = exc.filename or "a BorderWatch file"
    if exc.errno in _DISK_FULL or "no space left" in str(exc).lower():
        return f"the disk holding {where} is full; free space there (or move BORDERWATCH_HOME) and rerun"
    if exc.errno in _NOT_WRITABLE:
        return (
            f"cannot write {where} ({exc.strerror}); make the home writable for this user "
            f"(uid {os.getuid()}) or pass --home to a writable, initialised home"
        )
    return f"{exc.strerror or type(exc).__name__}: {where}"


def error_message(exc: BaseException) -> tuple[str, int]:
    """The one line an operator sees for an exception, and the exit code."""
    if isinstance(exc, SettingsError):  # includes a reversed backfill window
        return _one_line(str(exc)), USAGE_EXIT
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError) and exc.errno is not None:
        return _os_error_message(exc), FAILURE_EXIT
    text = str(exc)
    if any(full in text.lower() for full in _DISK_FULL_TEXT):
        return f"the disk is full ({_one_line(text)}); free space and rerun", FAILURE_EXIT
    return _one_line(f"{text or type(exc).__name__}"), FAILURE_EXIT


class OperatorErrors(TyperGroup):
    """Turns any exception from a command into one line on stderr and an exit code (no traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # typer's own usage errors and exits
            raise
        except BrokenPipeError:  # the reader went away (`| head`): nothing to tell it
            raise typer.Exit(FAILURE_EXIT) from None
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            message, code = error_message(exc)
            err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=OperatorErrors,
    help="BorderWatch: scam-centre crackdown data pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(feeds_app, name="feeds", help="The agency feed simulator (serve on loopback, generate files).")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="An initialised BORDERWATCH_HOME (default: $BORDERWATCH_HOME, else ./var)"),
]
DATE_FORMATS = ["%Y-%m-%d"]


def _settings(home: Path | None) -> Settings:
    """Settings for an existing installation: a home nobody initialised is refused, not created."""
    return installed_settings(home)


@contextlib.contextmanager
def _step(what: str) -> Iterator[None]:
    """A progress line for a long step (a spinner on a terminal) and how long it took."""
    started = time.monotonic()
    console.print(f"[bold]→[/] {what} ...")
    with console.status(what):
        yield
    console.print(f"  done in {time.monotonic() - started:.1f} s")


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


def _print_row_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(counts.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)


def _print_gate_verdict(gate: dict[str, Any], limit: int = 10) -> None:
    """A short verdict: pass/block, counts, the first failing checks and where the full report is."""
    checks = gate.get("checks")
    n_checks = len(checks) if isinstance(checks, list) else int(checks or 0)
    blocking = list(gate.get("blocking_failures") or [])
    warnings = list(gate.get("warnings") or [])
    verdict = "[bold green]passed[/]" if gate.get("passed") else "[bold red]blocked[/]"
    console.print(
        f"quality gate {verdict}: {n_checks} checks, {len(blocking)} blocking, {len(warnings)} warnings"
    )
    for label, names in (("[red]block[/]", blocking), ("[yellow]warn[/] ", warnings)):
        for name in names[:limit]:
            console.print(f"  {label} {escape(str(name))}")
        if len(names) > limit:
            console.print(f"  … and {len(names) - limit} more")
    for key in ("summary_path", "data_docs_path"):
        if gate.get(key):
            console.print(f"  {key.replace('_path', '').replace('_', ' ')}: {gate[key]}")


def _fail_fast_on_refused_sources(settings: Settings, feeds: list[str] | None) -> None:
    """Stop in seconds when a feed's source refuses connections, instead of after every retry."""
    from borderwatch.sources import connection_for, feed_url, refuses_connections
    from borderwatch.specs import load_specs

    specs = load_specs(settings.feeds_dir)
    problems: dict[str, list[str]] = {}
    for name, spec in specs.items():
        if (feeds is not None and name not in feeds) or spec.source.kind == "inbox":
            continue
        source = connection_for(spec, settings)
        url = feed_url(spec, source, spec.source.url) or ""
        if (why := refuses_connections(url)) is not None:
            problems.setdefault(f"{source.describe()}: {why}", []).append(name)
    if problems:
        where = "; ".join(f"{', '.join(names)} via {what}" for what, names in problems.items())
        raise SettingsError(
            f"feed source refuses connections: {where}. Start the simulator (`borderwatch feeds serve`), "
            "set BORDERWATCH_SIMULATOR_URL or the agency's connection (AIRFLOW_CONN_BORDERWATCH_<AGENCY>), "
            "or pull only reachable feeds with --feed / the inbox with --no-pull"
        )


@app.command()
def init(home: HomeOption = None) -> None:
    """Create a BorderWatch home (idempotent); other commands refuse a home never initialised."""
    settings = get_settings(home)
    created = init_home(settings)
    console.print(f"{'initialised' if created else 'already initialised'}: {settings.home}")


@app.command("deploy-init")
def deploy_init(home: HomeOption = None) -> None:
    """The compose init service: refuse placeholder secrets, init the home, migrate Airflow, set the pool."""
    from borderwatch.orchestration.deploy import deploy_init as _deploy_init

    for line in _deploy_init(get_settings(home)):
        console.print(line)


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
        with _step("warehouse_refresh through Airflow (airflow dags test): ingest, dbt build, gate, publish"):
            summary = run_nightly_in_process(settings, simulator_url=sim.url, echo=False)
    _render_run_summary(settings, summary)
    if not summary.get("ok", False):
        raise RuntimeError(f"nightly refresh failed: {summary.get('error')}")


def _render_run_summary(settings: Settings, summary: dict[str, Any]) -> None:
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
    if summary.get("gate"):
        _print_gate_verdict(summary["gate"])
    if summary.get("row_counts"):
        title = f"published version {summary.get('version')}"
        if summary.get("unchanged"):
            title = f"nothing new: version {summary.get('version')} keeps serving"
        _print_row_counts(title, summary["row_counts"])
    console.print(
        f"new rows: {summary.get('new_rows', 0):,}; took {summary.get('seconds')} s; "
        f"BI reads {settings.current_db if summary.get('version') else '(nothing published)'}"
    )


@app.command()
def refresh(
    home: HomeOption = None,
    feed: Annotated[list[str] | None, typer.Option(help="Only these feeds (repeatable)")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental models from scratch")] = False,
) -> None:
    """The nightly refresh without Airflow: ingest → dbt build → audit → publish."""
    from borderwatch import pipeline

    settings = _settings(home)
    _fail_fast_on_refused_sources(settings, feed)
    with pipeline.gate_warming():
        with _step("ingest: pull the feeds and the drop inbox"):
            loads = pipeline.ingest(settings, feed)  # prints its load report once
        with _step("dbt build on the build file"):
            built = pipeline.build(settings, full_refresh=full_refresh)
    _print_rebuilt(built.build.rebuilt_models)
    with _step("quality gate: dbt tests + Great Expectations"):
        gate = pipeline.audit(settings, built)
    _print_gate_verdict(gate.as_dict())
    with _step("publish"):
        pub = pipeline.publish(settings, gate)  # a failed gate raises PublicationBlocked (one alert)
    title = f"nothing new: {pub.version} keeps serving" if pub.unchanged else f"published {pub.version}"
    _print_row_counts(title, pub.row_counts)
    if any(r.status == "failed" for r in loads):
        raise RuntimeError("published, but some feeds failed to load (see the load report above)")


@app.command()
def ingest(
    home: HomeOption = None,
    feed: Annotated[list[str] | None, typer.Option(help="Only these feeds (repeatable)")] = None,
    inbox: Annotated[bool, typer.Option(help="Also ingest the drop inbox")] = True,
    pull: Annotated[bool, typer.Option(help="Pull the feeds' sources (--no-pull: the inbox only)")] = True,
) -> None:
    """Pull feeds (and the drop inbox) into the landing archive and the raw schema."""
    from borderwatch.pipeline import ingest as _ingest

    if not pull and not inbox:
        raise typer.BadParameter("--no-pull with --no-inbox leaves nothing to ingest")
    settings = _settings(home)
    if pull:
        _fail_fast_on_refused_sources(settings, feed)
    with _step("ingest"):
        reports = _ingest(settings, feed if pull else [], include_inbox=inbox)  # prints the report once
    failed = sorted({r.feed for r in reports if r.status == "failed"})
    if failed:
        raise RuntimeError(f"feeds failed to load: {', '.join(failed)} (see the load report above)")


@app.command()
def replay(
    home: HomeOption = None,
    target: Annotated[Path | None, typer.Option(help="Rebuild into this DuckDB file")] = None,
) -> None:
    """Rebuild the raw schema from the landing archive alone.

    Without --target the rebuilt file replaces the build file (raw schema only: run `borderwatch build`
    next); published versions are untouched, so BI keeps reading the current one.
    """
    from borderwatch import pipeline

    settings = _settings(home)
    with _step("replay the landing archive"):
        pipeline.replay(settings, target)


@app.command()
def build(home: HomeOption = None, full_refresh: bool = False) -> None:
    """Run ``dbt build`` on the build file and print row counts per mart."""
    from borderwatch.pipeline import build as _build

    settings = _settings(home)
    with _step("dbt build on the build file"):
        result = _build(settings, full_refresh=full_refresh)
    _print_rebuilt(result.build.rebuilt_models)
    _print_row_counts("marts", result.row_counts)
    if not result.ok:
        messages = " ".join(str(r.get("message") or "") for r in result.results).lower()
        if any(text in messages for text in _DISK_FULL_TEXT):
            raise OSError(errno.ENOSPC, "No space left on device", str(settings.build_db))
        raise RuntimeError(f"dbt build failed: {', '.join(result.failed_tests) or 'see the dbt log'}")


def _print_rebuilt(models: list[str]) -> None:
    """Say which marts were rebuilt whole because an upgrade changed their columns (a slow night, once)."""
    if models:
        console.print(f"  rebuilt from scratch once, their columns changed: {', '.join(models)}")


@app.command()
def gate(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole gate result as JSON")] = False,
) -> None:
    """Audit the current build (dbt test results + Great Expectations); publishes nothing."""
    from borderwatch.pipeline import audit, build

    settings = _settings(home)
    with _step("dbt build"):
        built = build(settings)
    with _step("quality gate: dbt tests + Great Expectations"):
        result = audit(settings, built)
    if as_json:
        _print_json(result.as_dict())
    else:
        _print_gate_verdict(result.as_dict())
    if not result.passed:
        raise typer.Exit(FAILURE_EXIT)


@app.command()
def publish(
    version: Annotated[str | None, typer.Argument(help="With --rollback: the version to restore")] = None,
    rollback: Annotated[bool, typer.Option("--rollback", help="Move `current` back")] = False,
    repair: Annotated[
        bool, typer.Option("--repair", help="Remove versions that fail verification; `current` stays intact")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Publish the audited build, or with --rollback move the `current` pointer back."""
    from borderwatch import pipeline

    if version is not None and not rollback:
        raise typer.BadParameter("a VERSION is only accepted together with --rollback")
    settings = _settings(home)
    if repair:
        _print_json(pipeline.repair(settings).as_dict())
        return
    if rollback:
        pub = pipeline.rollback(settings, version)
        console.print(f"[bold green]current[/] now points to {pub.version}")
        _print_row_counts(pub.version, pub.row_counts)
        return
    from borderwatch.pipeline import audit, build
    from borderwatch.pipeline import publish as _publish

    with _step("dbt build"):
        built = build(settings)
    with _step("quality gate"):
        result = audit(settings, built)
    _print_gate_verdict(result.as_dict())
    with _step("publish"):
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
        raise RuntimeError(f"no lineage found for {table} {key}; check the table name and the key value")
    _print_json(rows)


@app.command()
def backfill(
    start: Annotated[datetime, typer.Option("--from", formats=DATE_FORMATS, help="First logical date")],
    end: Annotated[datetime, typer.Option("--to", formats=DATE_FORMATS, help="Last logical date")],
    home: HomeOption = None,
    scheduler: Annotated[
        bool | None,
        typer.Option(
            "--scheduler/--in-process",
            help="Through the running scheduler (default when one runs) or in-process per date",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run warehouse_refresh once per logical date (through the scheduler when one runs); fails loudly."""
    from borderwatch.orchestration import backfill as bf
    from borderwatch.orchestration.local import airflow_env

    first, last = start.date(), end.date()
    bf.logical_dates(first, last)  # a reversed window is a usage error before anything starts
    settings = _settings(home)
    if scheduler is None:
        with _step("looking for a running Airflow scheduler"):
            scheduler = bf.scheduler_running(airflow_env(settings))
    if scheduler:
        result = bf.backfill_through_scheduler(settings, first, last, progress=console.print)
    else:
        _fail_fast_on_refused_sources(settings, None)
        result = bf.backfill(settings, first, last, progress=console.print)
    for run_ in result["runs"]:
        mark = "[green]ok[/]    " if run_["ok"] else "[red]failed[/]"
        detail = run_.get("version") or run_.get("run_id") or ""
        error = f" — {escape(_one_line(str(run_['error'])))}" if run_.get("error") else ""
        console.print(f"  {mark} {run_['logical_date']} {detail}{error}")
    if not result["ok"]:
        failed = [str(r["logical_date"]) for r in result["runs"] if not r["ok"]]
        raise RuntimeError(
            f"backfill {first}..{last} ({result['via']}) failed at {', '.join(failed)}: "
            f"{sum(1 for r in result['runs'] if r['ok'])} runs succeeded (see the lines above)"
        )
    done = len(result["runs"])
    console.print(f"backfill {first}..{last} ({result['via']}): {done} logical dates succeeded")


@app.command("airflow-live")
def airflow_live(
    home: HomeOption = None,
    port: Annotated[int, typer.Option(help="api-server port on 127.0.0.1")] = 8080,
    simulator_port: Annotated[int, typer.Option(help="Feed simulator port on 127.0.0.1")] = 8765,
) -> None:
    """Start a live local Airflow (api-server, scheduler, dag-processor, triggerer) and the simulator.

    Ctrl-C, SIGTERM and SIGHUP (and the death of the parent, e.g. `make`) stop every process it started.
    """
    from borderwatch.orchestration.local import start_live_airflow

    start_live_airflow(_settings(home), api_port=port, simulator_port=simulator_port)


@app.command()
def docs(home: HomeOption = None) -> None:
    """Generate dbt docs for the warehouse (catalog + manifest + index.html)."""
    from borderwatch.pipeline import build_file_access
    from borderwatch.warehouse import docs_generate

    settings = _settings(home)
    # dbt opens the build file read-write: wait for a running step instead of breaking it
    with _step("dbt docs generate"), build_file_access(settings):
        path = docs_generate(settings)
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
