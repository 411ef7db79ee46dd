"""Write one benchmark run as JSON (every figure), Markdown (the tables people read) and a PNG chart.

Measurements hand back plain dicts (see ``benchmarks.measurements.Result``); this module only formats them,
so a measurement can add figures without touching the report code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def fmt(value: Any, digits: int = 2) -> str:
    """Human figures: thousands separators for big numbers, a few significant digits for small ones."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def spread(stats: Mapping[str, Any] | None, digits: int = 2) -> str:
    """``median (min–max)`` of a summarised figure."""
    if not stats or stats.get("median") is None:
        return "–"
    if stats.get("n", 1) <= 1:
        return fmt(stats["median"], digits)
    return f"{fmt(stats['median'], digits)} ({fmt(stats['min'], digits)}–{fmt(stats['max'], digits)})"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "n/a"}[met]


def _table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return []
    headers = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        cells = [str(row.get(h, "")) if isinstance(row.get(h), str) else fmt(row.get(h)) for h in headers]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


def render_markdown(run: Mapping[str, Any], chart_name: str | None) -> str:
    """The Markdown report: a verdict table first, then one section per measurement."""
    meta = run["meta"]
    lines = [
        f"# BorderWatch benchmarks — {meta['date']}{' (quick)' if meta.get('quick') else ''}",
        "",
        f"Machine: {meta['machine']}. Versions: {meta['versions']}.",
        f"Arguments: `{meta['argv']}`; scales {meta['scales']}, {meta['reps']} repetitions (alternating "
        f"order), total {fmt(meta.get('elapsed_s'))} s. Figures are median (min–max).",
        "",
        "## Targets",
        "",
        "| # | Measurement | Target | Measured | Verdict |",
        "|---|---|---|---|---|",
    ]
    for result in run["measurements"]:
        if result.get("error"):
            error = " ".join(result["error"].split())[:160].replace("|", "\\|")
            lines.append(f"| {result['number']} | {result['title']} | – | not run: {error} | n/a |")
            continue
        for target in result.get("targets", []):
            lines.append(
                f"| {result['number']} | {result['title']}: {target['what']} | {target['target']} | "
                f"{target['display']} | {verdict(target.get('met'))} |"
            )
    if chart_name:
        lines += ["", f"![benchmark figures]({chart_name})"]
    for result in run["measurements"]:
        lines += ["", f"## {result['number']}. {result['title']}", ""]
        if result.get("description"):
            lines += [result["description"], ""]
        if result.get("error"):
            lines += [f"Not run: {result['error']}", ""]
            continue
        for i, rows in enumerate(result.get("tables") or [result.get("table", [])]):
            lines += ([""] if i else []) + _table(rows)
        for note in result.get("notes", []):
            lines += ["", f"- {note}"]
        profile = result.get("profile")
        if profile:
            lines += ["", f"**Profile ({profile.get('what', 'slowest step')}):**", ""]
            if profile.get("steps"):
                lines += _table([{"step": k, "seconds": v} for k, v in profile["steps"].items()])
                lines.append("")
            lines += _table(profile.get("top", []))
    return "\n".join(lines) + "\n"


def render_chart(run: Mapping[str, Any], path: Path) -> bool:
    """One panel per measurement that supplied chart data: grouped bars (median) with min–max whiskers."""
    panels = [r for r in run["measurements"] if r.get("chart") and not r.get("error")]
    if not panels:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 4 * rows), squeeze=False)
    for ax, result in zip(axes.flat, panels, strict=False):
        _draw_panel(ax, result)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle(
        f"BorderWatch benchmarks {run['meta']['date']}{' (quick)' if run['meta'].get('quick') else ''}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _draw_panel(ax: Any, result: Mapping[str, Any]) -> None:
    chart = result["chart"]
    groups = chart["groups"]
    series = list(dict.fromkeys(bar["series"] for g in groups for bar in g["bars"]))
    width = 0.8 / max(1, len(series))
    for i, name in enumerate(series):
        xs, heights, lows, highs = [], [], [], []
        for gi, group in enumerate(groups):
            bar = next((b for b in group["bars"] if b["series"] == name), None)
            if bar is None or bar.get("median") is None:
                continue
            xs.append(gi + (i - (len(series) - 1) / 2) * width)
            heights.append(bar["median"])
            lows.append(bar["median"] - (bar.get("min") if bar.get("min") is not None else bar["median"]))
            highs.append((bar.get("max") if bar.get("max") is not None else bar["median"]) - bar["median"])
        ax.bar(xs, heights, width=width, label=name, yerr=[lows, highs], capsize=3)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g["label"] for g in groups], rotation=20 if len(groups) > 4 else 0, fontsize=8)
    if chart.get("limit") is not None:
        ax.axhline(
            chart["limit"], color="red", linestyle="--", linewidth=1, label=chart.get("limit_label", "target")
        )
    if chart.get("log"):
        ax.set_yscale("log")
    ax.set_ylabel(chart.get("unit", ""))
    ax.set_title(f"{result['number']}. {chart.get('title', result['title'])}", fontsize=10)
    ax.legend(fontsize=7)


LATEST_BENCH = "latest-bench.md"  # make bench's newest report; latest.md belongs to benchmarks.scale


def write_reports(run: Mapping[str, Any], out_dir: Path, stem: str) -> dict[str, Path]:
    """``<stem>.json``, ``<stem>.png``, ``<stem>.md`` and ``latest-bench.md`` (a copy pointing at the same
    PNG; ``latest.md`` is the 10 M-row report of ``benchmarks.scale``, which two writers would clobber)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md", "latest": out_dir / LATEST_BENCH}
    paths["json"].write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    png = out_dir / f"{stem}.png"
    chart_name = png.name if render_chart(run, png) else None
    if chart_name:
        paths["png"] = png
    markdown = render_markdown(run, chart_name)
    paths["md"].write_text(markdown, encoding="utf-8")
    paths["latest"].write_text(markdown, encoding="utf-8")
    return paths
