"""The card as an HTML page that looks like a Hub model page: tag chips, Markdown, findings."""

from __future__ import annotations

import html
import json

import yaml

from publisher.findings import Finding

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#fff;color:#111827}
header{border-bottom:1px solid #e5e7eb;padding:16px 32px}
header h1{font-size:20px;margin:0 0 10px}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip{font-size:12px;border:1px solid #e5e7eb;border-radius:6px;padding:2px 8px;background:#f9fafb}
.chip b{color:#6b7280;font-weight:500;margin-right:4px}
main{display:grid;grid-template-columns:minmax(0,1fr) 340px;gap:32px;padding:24px 32px}
article{line-height:1.55;font-size:15px}
article table{border-collapse:collapse;margin:12px 0;font-size:13px}
article th,article td{border:1px solid #e5e7eb;padding:4px 10px;text-align:left}
article th{background:#f9fafb}
article pre{background:#f3f4f6;padding:10px;border-radius:6px;overflow-x:auto}
aside{border-left:1px solid #e5e7eb;padding-left:20px;font-size:13px}
.finding{margin:8px 0;padding:6px 8px;border-radius:6px;background:#fef2f2}
.finding.warning{background:#fffbeb}
.ok{color:#047857}
main.with-map{grid-template-columns:minmax(0,1fr) minmax(0,560px)}
#precision-map svg{max-width:100%;height:auto}
#precision-map{margin-bottom:16px}
"""

RELOAD = """
<script>
let version = %s;
setInterval(async () => {
  try {
    const r = await fetch('/version', {cache: 'no-store'});
    const v = await r.text();
    if (v !== version) { location.reload(); }
  } catch (e) {}
}, 1000);
</script>
"""


def split_frontmatter(card: str) -> tuple[dict[str, object], str]:
    if card.startswith("---\n"):
        head, _, body = card[4:].partition("\n---\n")
        meta = yaml.safe_load(head) or {}
        return (meta if isinstance(meta, dict) else {}), body
    return {}, card


def markdown_to_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def _chips(meta: dict[str, object]) -> str:
    chips = []
    for key in ("pipeline_tag", "library_name", "license", "base_model_relation"):
        if meta.get(key):
            chips.append((key, str(meta[key])))
    for base in meta.get("base_model") or []:  # type: ignore[attr-defined]
        chips.append(("base_model", str(base)))
    for tag in meta.get("tags") or []:  # type: ignore[attr-defined]
        chips.append(("tag", str(tag)))
    for lang in meta.get("language") or []:  # type: ignore[attr-defined]
        chips.append(("language", str(lang)))
    return "".join(
        f'<span class="chip" data-key="{html.escape(k)}"><b>{html.escape(k)}</b>{html.escape(v)}</span>'
        for k, v in chips
    )


def _findings(findings: list[Finding]) -> str:
    if not findings:
        return '<p class="ok" id="no-findings">No findings: the spec is clean and the card checks out.</p>'
    items = []
    for f in findings:
        items.append(
            f'<div class="finding {html.escape(str(f.severity))}"><code>{html.escape(f.code)}</code> '
            f"{html.escape(f.message)}<br><small>{html.escape(str(f.location))}</small></div>"
        )
    return "".join(items)


def card_page(
    title: str, card: str | None, findings: list[Finding], version: str, side: str = ""
) -> str:
    """The page; `side` is trusted HTML shown beside the card (the precision map)."""
    meta, body = split_frontmatter(card) if card else ({}, "")
    article = markdown_to_html(body) if card else "<p>No card: fix the findings first.</p>"
    layout = "<main class='with-map'>" if side else "<main>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><div class='chips' id='tags'>{_chips(meta)}</div></header>"
        f"{layout}<article id='card'>{article}</article>"
        f"<aside id='findings'>{side}<h2>Findings</h2>{_findings(findings)}</aside></main>"
        + RELOAD % json.dumps(version)
        + "</body></html>"
    )
