"""`audit --format html`: one self-contained page (no network, no scripts) for an auditor.

The precision map inline (so every cell keeps its accessible name), the component summary,
the dtype table, the parameters counted two ways, the changes against another checkpoint, the
findings, and the map again as a plain table for readers who cannot see the picture.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.auditview.grid import NO_KIND, PrecisionMap, build_map
from publisher.auditview.palette import css_class, order_key, swatch
from publisher.auditview.svg import draw_svg, xml_char

if TYPE_CHECKING:
    from publisher.checkpoint.audit import AuditResult
    from publisher.findings import Finding

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;
color:#111827;background:#fff;line-height:1.5}
main{max-width:880px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#4b5563;font-size:14px;margin:0}
figure{margin:16px 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #e5e7eb;padding:3px 9px;text-align:left;vertical-align:top}
th{background:#f9fafb}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;
vertical-align:baseline}
.chg td{background:#fdf2f8}
details{margin:12px 0}summary{cursor:pointer;font-weight:600}
.matrix td{white-space:nowrap;font-size:12px}
.finding{margin:6px 0;padding:6px 8px;border-radius:6px;background:#fef2f2;font-size:13px}
.finding.warning{background:#fffbeb}.ok{color:#047857}
"""


def _e(value: object) -> str:
    clean = "".join(xml_char(ch) if ch not in "\n" else ch for ch in str(value))
    return html.escape(clean, quote=True)


def _swatch_css(precisions: Sequence[str]) -> str:
    return "".join(f".sw.{css_class(p)}{{background:{swatch(p).fill}}}" for p in precisions)


def _label(precision: str) -> str:
    return f'<span class="sw {css_class(precision)}"></span>{_e(swatch(precision).label)}'


def _counts(counts: dict[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda kv: order_key(kv[0]))
    return ", ".join(f"{n:,} {_label(p)}" for p, n in ordered) or "none"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: str, num: bool = False) -> str:
    return f'<td class="num">{value}</td>' if num else f"<td>{value}</td>"


def matrix_table(view: PrecisionMap) -> str:
    """The map as a table: one row per layer, one column per component."""
    header = ["Layer", *(_e(label) for _, label in view.rows)]
    rows = []
    for layer in view.layers:
        kinds = [k for k in view.layer_kinds.get(layer, ()) if k != NO_KIND]
        cells = [_td(f"{layer}" + (f" ({_e(', '.join(kinds))})" if kinds else ""))]
        for component, _ in view.rows:
            cell = view.cells.get((component, layer))
            text = "absent" if cell is None else "/".join(swatch(p).label for p in cell.counts)
            if cell is not None and cell.groups:
                text += f" ({cell.groups} {cell.group_word})"
            if cell is not None and cell.changed:
                text += " (changed)"
            cells.append(_td(_e(text)))
        rows.append(cells)
    for panel in view.panels:
        for bar in panel.bars:
            rows.append(
                [
                    _td(_e(panel.title)),
                    f'<td colspan="{len(view.rows)}">{_e(bar.label)}: {_e(bar.cell.describe())}</td>',
                ]
            )
    return _table(header, rows, "matrix")


def _findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return '<p class="ok" id="no-findings">No findings.</p>'
    return "".join(
        f'<div class="finding {_e(f.severity)}"><code>{_e(f.code)}</code> {_e(f.message)}'
        f"<br><small>{_e(f.location)}</small></div>"
        for f in findings
    )


def _changes(result: AuditResult, changes: Sequence[tuple[str, str, str]]) -> str:
    """Changes summed per component and move (the cells outlined in the map), then every
    changed module behind a disclosure."""
    labels = {s.component: s.label for s in result.components}
    moves: dict[tuple[str, str, str], int] = {}
    for module, before, after in changes:
        component = result.modules.get(module, (module, ""))[0]
        key = (labels.get(component, component), before, after)
        moves[key] = moves.get(key, 0) + 1
    summary = _table(
        ["Component", "Before", "After", "Modules"],
        [
            [_td(_e(c)), _td(_label(b)), _td(_label(a)), _td(f"{n:,}", True)]
            for (c, b, a), n in sorted(moves.items())
        ],
        "chg",
    )
    every = _table(
        ["Module", "Before", "After"],
        [[_td(f"<code>{_e(m)}</code>"), _td(_label(b)), _td(_label(a))] for m, b, a in changes],
        "chg",
    )
    return (
        summary
        + f"<details><summary>Every changed module ({len(changes):,})</summary>{every}</details>"
    )


def audit_page(
    result: AuditResult,
    changes: Sequence[tuple[str, str, str]] | None = None,
    against: str | None = None,
    title: str | None = None,
    view: PrecisionMap | None = None,
) -> str:
    """The whole report as one HTML document."""
    name = title or Path(result.root).name or result.root
    view = view or build_map(result, title=name, changes=changes, against=against)
    qc = result.quant_config
    precisions = sorted(
        {p for s in result.components for p in s.counts}
        | set(view.totals)
        | {p for _, b, a in changes or () for p in (b, a)},
        key=order_key,
    )
    meta = [
        f"Checkpoint: <code>{_e(result.root)}</code>",
        f"Format: {_e(result.detected_format)} (quant config: {_e(qc.format)}, producer"
        f" {_e(qc.producer or '-')} {_e(qc.producer_version or '')}, group size"
        f" {_e(qc.group_size or '-')})",
        f"Architecture profile: {_e(result.profile or 'unknown (grouped by module name)')}",
    ]
    sections = [
        f"<h1>Quantization audit: {_e(name)}</h1>",
        "".join(f'<p class="meta">{line}</p>' for line in meta),
        '<h2 id="map">Precision map</h2>',
        f'<figure id="precision-map">{draw_svg(view)}'
        f'<figcaption class="meta">{_e(view.summary())} The same map as a table is at'
        ' <a href="#as-table">the end of the page</a>.</figcaption></figure>',
        '<h2 id="components">Components</h2>',
        _table(
            ["Component", "Modules by written precision"],
            [[_td(_e(s.label)), _td(_counts(s.counts))] for s in result.components],
        ),
        '<h2 id="dtypes">Tensors by dtype</h2>',
        _table(
            ["Dtype", "Tensors", "Bytes"],
            [
                [_td(_e(d)), _td(f"{n:,}", True), _td(f"{result.bytes_by_dtype.get(d, 0):,}", True)]
                for d, n in result.tensors_by_dtype.items()
            ],
        ),
        '<h2 id="parameters">Parameters, counted two ways</h2>',
        _table(
            ["Count", "Value", "What it means"],
            [
                [
                    _td("Logical parameters"),
                    _td(f"{result.logical_parameters:,}", True),
                    _td("packed FP4 bytes counted as two weights, scales left out"),
                ],
                [
                    _td("Stored elements"),
                    _td(f"{result.stored_elements:,}", True),
                    _td("every tensor element as stored (what the Hub's size panel counts)"),
                ],
            ],
        ),
    ]
    if changes is not None:
        sections.append(
            f'<h2 id="changes">Precision changes against {_e(against or "")}: {len(changes):,}</h2>'
        )
        sections.append(
            _changes(result, changes) if changes else "<p>No module changed precision.</p>"
        )
    sections.append('<h2 id="findings">Findings</h2>' + _findings(result.findings))
    sections.append(
        '<details id="as-table"><summary>The precision map as a table</summary>'
        + matrix_table(view)
        + "</details>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Quantization audit: {_e(name)}</title>"
        f"<style>{STYLE}{_swatch_css(precisions)}</style></head><body><main>"
        + "".join(sections)
        + "</main></body></html>\n"
    )
