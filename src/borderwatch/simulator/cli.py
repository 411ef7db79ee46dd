"""``borderwatch feeds ...``: run the agency feed simulator on loopback, or write its files to disk."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The agency feed simulator (serve on loopback, generate files).", no_args_is_help=True)
console = Console(stderr=True)


def _parse_until(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--until must be YYYY-MM-DD, got {value!r}") from exc


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Bind address; only loopback unless --allow-remote")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port)")] = 8765,
    seed: Annotated[int, typer.Option(help="Random seed of the scenario")] = 7,
    scale: Annotated[
        float, typer.Option(help="Background volume: 1 = small sample, 100 = millions of rows")
    ] = 1.0,
    until: Annotated[
        str | None, typer.Option(help="Clock: serve only what is published by YYYY-MM-DD")
    ] = None,
    fault: Annotated[list[str] | None, typer.Option(help="Fault switch to turn on (repeatable)")] = None,
    allow_remote: Annotated[bool, typer.Option(help="Allow binding to a non-loopback address")] = False,
    cache_dir: Annotated[Path | None, typer.Option(help="Where generated payloads are cached")] = None,
) -> None:
    """Serve the six agency feeds until interrupted (Ctrl-C)."""
    from borderwatch.simulator.faults import UnknownFaultError, parse_faults
    from borderwatch.simulator.server import NonLoopbackBindError, SimulatorServer, serve_forever

    try:
        faults = sorted(parse_faults(fault or []))
    except UnknownFaultError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from exc

    def ready(server: SimulatorServer) -> None:
        console.print(
            f"[bold]feed simulator[/] seed={seed} scale={scale:g} on {server.url} "
            f"(until {server.app.until}, faults: {', '.join(faults) or 'none'})"
        )

    console.print(f"preparing feed payloads for seed={seed} scale={scale:g} (cached after the first run) ...")
    try:
        serve_forever(
            host,
            port,
            seed,
            scale,
            _parse_until(until),
            faults,
            allow_remote=allow_remote,
            cache_dir=cache_dir,
            ready=ready,
        )
    except NonLoopbackBindError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from exc


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Output directory (one subdirectory per feed)")],
    seed: Annotated[int, typer.Option(help="Random seed of the scenario")] = 7,
    scale: Annotated[
        float, typer.Option(help="Background volume: 1 = small sample, 100 = millions of rows")
    ] = 1.0,
    until: Annotated[str | None, typer.Option(help="Only files published by YYYY-MM-DD")] = None,
    inbox_names: Annotated[
        bool, typer.Option(help="Name the RTP pages rtp_raids_*.json so they can be dropped into the inbox")
    ] = False,
) -> None:
    """Write every file-feed payload exactly as served, plus the RTP API pages as JSON."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from borderwatch.simulator.scenario import (
        FILE_FEEDS,
        WrittenFile,
        build_scenario,
        write_rtp_pages,
        write_scenario_files,
    )

    limit = _parse_until(until)
    scenario = build_scenario(seed, scale)
    total = sum(len(scenario.files_until(feed, limit)) for feed in FILE_FEEDS)
    rows = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("files", total=total)

        def step(written: WrittenFile) -> None:
            nonlocal rows
            rows += written.rows
            progress.update(task, advance=1, description=f"{written.feed}: {rows:,} rows")

        written = write_scenario_files(scenario, out, limit, step)
    pages = write_rtp_pages(out / "rtp_raids", seed, scale, limit, inbox_names=inbox_names)
    console.print(f"wrote {len(written)} files ({rows:,} rows) and {len(pages)} RTP pages to {out}")


@app.command()
def disagreements() -> None:
    """Print, as JSON, the disagreement classes C1-C10 the scenario contains (report ids, both sides)."""
    import json

    from borderwatch.simulator.scenario import expected_disagreements

    typer.echo(json.dumps(expected_disagreements(), ensure_ascii=False, indent=1))
