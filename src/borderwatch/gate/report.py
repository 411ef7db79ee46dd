"""The gate's own report: one offline HTML page per run (every check, its owner) and an index of runs.

GX's Data Docs draw their tables with scripts from public CDNs, so on a closed network they show
nothing, and they only know GX's share of the checks. This page is plain HTML with its styles inline
(rendered by Jinja2, installed with dbt by the lock): no script, no font, no request of any kind. Each
run's page lives beside its ``summary.json``; ``reports/gate/index.html`` lists every run so far,
newest first, rebuilt from those summaries (the history survives any one run).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2

RUN_PAGE = "index.html"
INDEX_PAGE = "index.html"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
.verdict { display: inline-block; padding: .15rem .6rem; border-radius: 4px; font-weight: 600; }
.passed { background: #d9f2dd; color: #145c22; } .blocked { background: #fbdada; color: #8a1414; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
th, td { border-bottom: 1px solid #d7dce3; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef1f5; position: sticky; top: 0; }
tr.fail-block td { background: #fdecec; } tr.fail-warn td { background: #fff6dd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; overflow-wrap: anywhere; } .muted { color: #5d6675; }
#checks td:nth-child(4) { min-width: 24rem; } #checks td:nth-child(5) { min-width: 9rem; }
"""

_RUN_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Quality gate run {{ r.run_id }}</title><style>{{ style }}</style></head>
<body>
<p class="muted"><a href="../{{ index }}">All gate runs</a></p>
<h1>Quality gate run <code>{{ r.run_id }}</code></h1>
<p><span class="verdict {{ 'passed' if r.passed else 'blocked' }}" id="verdict">
{{ 'passed: publication allowed' if r.passed else 'blocked: publication refused' }}</span>
 &nbsp; {{ r.created_at }} &nbsp; {{ r.checks | length }} checks:
{{ failed_block | length }} blocking failures, {{ failed_warn | length }} warnings.</p>
<h2>Checks by owner</h2>
<table id="owners"><thead><tr><th>owner</th><th>checks</th><th>passed</th><th>failed (block)</th>
<th>failed (warn)</th></tr></thead><tbody>
{% for o in owners %}<tr><td>{{ o.owner }}</td><td class="num">{{ o.total }}</td>
<td class="num">{{ o.passed }}</td><td class="num">{{ o.block }}</td><td class="num">{{ o.warn }}</td></tr>
{% endfor %}</tbody></table>
<h2>Every check (failures first)</h2>
<table id="checks"><thead><tr><th>status</th><th>severity</th><th>owner</th><th>check</th><th>target</th>
<th>unexpected</th><th>detail</th></tr></thead><tbody>
{% for c in rows %}<tr class="validation-row {{ '' if c.success else 'fail-' ~ c.severity }}">
<td>{{ 'pass' if c.success else 'FAIL' }}</td><td>{{ c.severity }}</td><td>{{ c.owner }}</td>
<td><code>{{ c.name }}</code></td><td>{{ c.target }}</td>
<td class="num">{{ '' if c.unexpected_count is none else c.unexpected_count }}</td>
<td class="muted">{{ c.detail }}</td></tr>
{% endfor %}</tbody></table>
</body></html>
"""

_INDEX_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Quality gate runs</title><style>{{ style }}</style></head>
<body>
<h1>Quality gate runs</h1>
<p class="muted">{{ runs | length }} runs, newest first. Each run judged one candidate build with every
check of every owner (dbt contract, dbt test, dbt freshness, gx).</p>
<table id="runs"><thead><tr><th>run</th><th>when (UTC)</th><th>verdict</th><th>checks</th>
<th>blocking failures</th><th>warnings</th></tr></thead><tbody>
{% for r in runs %}<tr class="run-row {{ '' if r.passed else 'fail-block' }}">
<td><a href="{{ r.run_id }}/{{ page }}"><code>{{ r.run_id }}</code></a></td><td>{{ r.created_at }}</td>
<td>{{ 'passed' if r.passed else 'blocked' }}</td><td class="num">{{ r.checks }}</td>
<td>{{ r.blocking | join(', ') }}</td><td class="num">{{ r.warnings }}</td></tr>
{% endfor %}</tbody></table>
</body></html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def write_run_page(run_dir: Path, summary: dict[str, Any]) -> Path:
    """Render one run's page from its summary (the same dict as ``summary.json``)."""
    checks = summary.get("checks", [])
    rows = sorted(
        (dict(c, detail=_detail(c), target=c.get("target", "")) for c in checks),
        key=lambda c: (c["success"], c["severity"] != "block", c.get("owner", ""), c["name"]),
    )
    owners: dict[str, dict[str, Any]] = {}
    for c in checks:
        o = owners.setdefault(c.get("owner", "?"), {"owner": c.get("owner", "?"), "total": 0, "passed": 0})
        o["total"] += 1
        o["passed"] += int(bool(c["success"]))
        if not c["success"]:
            o[c["severity"]] = o.get(c["severity"], 0) + 1
    html = _ENV.from_string(_RUN_TEMPLATE).render(
        r=summary,
        rows=rows,
        owners=[{"block": 0, "warn": 0, **o} for _, o in sorted(owners.items())],
        failed_block=summary.get("blocking_failures", []),
        failed_warn=summary.get("warnings", []),
        style=_STYLE,
        index=INDEX_PAGE,
    )
    return _write(run_dir / RUN_PAGE, html)


def write_index(gate_dir: Path) -> Path:
    """Rebuild ``reports/gate/index.html`` from every run's ``summary.json`` (newest first)."""
    runs = []
    for path in gate_dir.glob("*/summary.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a run being written right now, or a damaged one: it is not history yet
        runs.append(
            {
                "run_id": data.get("run_id") or path.parent.name,
                "created_at": data.get("created_at", ""),
                "passed": bool(data.get("passed")),
                "checks": len(data.get("checks", [])),
                "blocking": data.get("blocking_failures", []),
                "warnings": len(data.get("warnings", [])),
            }
        )
    runs.sort(key=lambda r: (r["created_at"], r["run_id"]), reverse=True)
    html = _ENV.from_string(_INDEX_TEMPLATE).render(runs=runs, page=RUN_PAGE, style=_STYLE)
    return _write(gate_dir / INDEX_PAGE, html)


def _detail(c: dict[str, Any]) -> str:
    details = c.get("details") or {}
    for key in ("error", "message"):
        if details.get(key):
            return str(details[key])[:300]
    if c.get("owner") == "dbt contract":
        return f"{details.get('constraint')} {details.get('expression') or ''}".strip()
    if c.get("owner") == "dbt freshness":
        return (
            f"newest load {details.get('max_loaded_at')}, warn after {details.get('warn_after')}, "
            f"error after {details.get('error_after')}"
        )
    if "observed_value" in details:
        return f"observed {details['observed_value']}"
    return ""


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
