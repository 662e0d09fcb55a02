"""Draw a precision map as one SVG: deterministic bytes, readable at the Hub's page width.

Layout, top to bottom: the title and a legend with the modules per precision; the layer grid
(a strip for each layer's mixer, one for its feed-forward kind, then one row per component,
one column per layer); then bars for what lives outside the layers (globals, other numbered
stacks such as a vision encoder, the MTP head). Every cell is a `<g>` with a `<title>` naming
the layer, the component and what it holds, so the picture reads aloud and hovers.
"""

from __future__ import annotations

from publisher.auditview.grid import NO_KIND, Cell, PrecisionMap
from publisher.auditview.palette import (
    ABSENT,
    CHANGED_STROKE,
    FFN_FILLS,
    MIXER_FILLS,
    css_class,
    swatch,
)

MAP_FILE = "precision_map.svg"
WIDTH = 820  # the Hub's model card column; the SVG scales down from here
LABEL_WIDTH = 204
RIGHT = 8
ROW = 16
STRIP = 10
GAP = 1
FONT = 11
MAX_LABEL = 29
BAR_WIDTH = 300


def _text(value: str) -> str:
    """XML text: control characters dropped, markup escaped."""
    clean = "".join(xml_char(ch) for ch in value)
    return (
        clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def xml_char(ch: str) -> str:
    """A character XML 1.0 allows as it is; control characters dropped, lone surrogates and
    non-characters (from hostile tensor names) replaced."""
    if ch < " ":
        return "" if ch != "\t" else ch
    if "\ud800" <= ch <= "\udfff" or ch in "\ufffe\uffff":
        return "\ufffd"
    return ch


def _short(label: str, limit: int = MAX_LABEL) -> str:
    """A label cut to fit; a module pattern (no spaces) keeps its end, where names differ."""
    if len(label) <= limit:
        return label
    if " " not in label and "." in label:
        return "…" + label[-(limit - 1) :]
    return label[: limit - 1] + "…"


def _tail(label: str, limit: int) -> str:
    """A path kept by its end (the folder's own name matters most)."""
    return label if len(label) <= limit else "…" + label[-(limit - 1) :]


class _Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, part: str) -> None:
        self.parts.append(part)

    def text(self, x: int, y: int, value: str, cls: str = "", anchor: str = "") -> None:
        attrs = f' class="{cls}"' if cls else ""
        attrs += f' text-anchor="{anchor}"' if anchor else ""
        self.add(f'<text x="{x}" y="{y}"{attrs}>{_text(value)}</text>')

    def rect(self, x: int, y: int, w: int, h: int, cls: str) -> str:
        return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" class="{cls}"/>'


def _style(precisions: list[str]) -> str:
    rules = [
        f"text{{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
        f"font-size:{FONT}px;fill:#1f2937}}",
        ".t{font-size:15px;font-weight:600}",
        ".s{fill:#4b5563}",
        ".h{font-size:12px;font-weight:600}",
        ".n{font-size:9px;fill:#6b7280}",
        f".p-absent{{fill:{ABSENT.fill};stroke:#e5e7eb;stroke-width:1}}",
        f".chg{{fill:none;stroke:{CHANGED_STROKE};stroke-width:2}}",
    ]
    rules += [f".{css_class(p)}{{fill:{swatch(p).fill}}}" for p in precisions]
    rules += [f".m{i}{{fill:{fill}}}" for i, fill in enumerate(MIXER_FILLS)]
    rules += [f".f{i}{{fill:{fill}}}" for i, fill in enumerate(FFN_FILLS)]
    return "<style>" + "".join(rules) + "</style>"


def _tick_step(width: int) -> int:
    """Label every n-th layer so numbers are at least 22 px apart."""
    for step in (1, 2, 4, 5, 8, 10, 16, 20, 25, 50, 100):
        if step * width >= 22:
            return step
    return 200


def _cell_rects(canvas: _Canvas, cell: Cell, x: int, y: int, w: int, h: int) -> list[str]:
    """One rect for a uniform cell; a stack of runs, in module order, for a mixed one."""
    if len(cell.runs) == 1:
        return [canvas.rect(x, y, w, h, css_class(cell.runs[0][0]))]
    total = sum(n for _, n in cell.runs)
    rects, done, top = [], 0, y
    for precision, n in cell.runs:
        done += n
        bottom = y + (h * done + total // 2) // total
        if bottom > top:
            rects.append(canvas.rect(x, top, w, bottom - top, css_class(precision)))
        top = bottom
    return rects


def _horizontal_rects(canvas: _Canvas, cell: Cell, x: int, y: int, w: int, h: int) -> list[str]:
    total = sum(n for _, n in cell.runs)
    rects, done, left = [], 0, x
    for precision, n in cell.runs:
        done += n
        right = x + (w * done + total // 2) // total
        if right > left:
            rects.append(canvas.rect(left, y, right - left, h, css_class(precision)))
        left = right
    return rects


def draw_svg(view: PrecisionMap) -> str:
    """The map as SVG text (the same bytes for the same map)."""
    canvas = _Canvas()
    grid_width = WIDTH - LABEL_WIDTH - RIGHT
    columns = max(1, len(view.layers))
    cell_w = max(3, min(24, grid_width // columns))
    x0 = LABEL_WIDTH
    y = 22
    canvas.text(8, y, f"Written precision by layer: {_tail(view.title, 80)}", "t")
    y += 20
    # legend: one swatch per precision present, with its module count, then absent
    x = 8
    for precision, count in view.totals.items():
        s = swatch(precision)
        label = f"{s.label} {count:,}"
        canvas.add(canvas.rect(x, y - 10, 12, 12, css_class(precision)))
        canvas.text(x + 16, y, label)
        x += 16 + 7 * len(label) + 14
    canvas.add(canvas.rect(x, y - 10, 12, 12, "p-absent"))
    canvas.text(x + 16, y, "absent")
    x += 16 + 7 * 6 + 14
    if view.against:
        canvas.add(f'<rect x="{x + 1}" y="{y - 9}" width="10" height="10" class="chg"/>')
        canvas.text(
            x + 16, y, f"changed against {_tail(view.against, 44)}: {view.changed_modules:,}"
        )
    y += 8
    mixed = any(len(cell.runs) > 1 for cell in view.cells.values())
    canvas.text(
        8,
        y + 12,
        "legend: modules per written precision; each cell names its layer, component and modules"
        + ("; a striped cell mixes precisions, in module order" if mixed else ""),
        "s",
    )
    y += 26
    kinds = _kind_classes(view)
    if view.layers:
        y = _grid(canvas, view, kinds, x0, y, cell_w)
    for panel in view.panels:
        y += 10
        canvas.text(8, y + 12, panel.title, "h")
        y += 20
        for bar in panel.bars:
            cell = bar.cell
            title = f"{panel.title} · {bar.label}: {cell.describe()}"
            rects = _horizontal_rects(canvas, cell, x0, y, BAR_WIDTH, ROW - 3)
            if cell.changed:
                rects.append(
                    f'<rect x="{x0}" y="{y}" width="{BAR_WIDTH}" height="{ROW - 3}" class="chg"/>'
                )
            canvas.add(f"<g><title>{_text(title)}</title>{''.join(rects)}</g>")
            canvas.text(x0 - 6, y + ROW - 6, _short(bar.label), anchor="end")
            canvas.text(x0 + BAR_WIDTH + 8, y + ROW - 6, _short(cell.describe(), 60), "s")
            y += ROW
    height = y + 12
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="map-title map-desc">'
        f'<title id="map-title">Precision map: {_text(view.title)}</title>'
        f'<desc id="map-desc">{_text(view.summary())}</desc>'
        + _style(list(view.totals))
        + f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
    )
    return head + "".join(canvas.parts) + "</svg>\n"


def _row_label(view: PrecisionMap, component: str, label: str) -> str:
    """'Routed experts ×256' when every layer's cell repeats the same number of groups."""
    found = {
        (cell.groups, cell.group_word)
        for layer in view.layers
        if (cell := view.cells.get((component, layer))) is not None
    }
    if len(found) == 1:
        groups, _ = next(iter(found))
        if groups > 1:
            return f"{_short(label, MAX_LABEL - 6)} ×{groups}"
    return label


def _kind_classes(view: PrecisionMap) -> list[dict[str, str]]:
    """[mixer label → class, feed-forward kind → class], in order of first appearance."""
    classes: list[dict[str, str]] = [{}, {}]
    for layer in view.layers:
        for position, name in enumerate(view.layer_kinds.get(layer, ())):
            if name == NO_KIND:
                continue
            table, prefix, fills = (
                (classes[0], "m", MIXER_FILLS) if position == 0 else (classes[1], "f", FFN_FILLS)
            )
            table.setdefault(name, f"{prefix}{len(table) % len(fills)}")
    return classes


def _grid(
    canvas: _Canvas, view: PrecisionMap, kinds: list[dict[str, str]], x0: int, y: int, cell_w: int
) -> int:
    step = _tick_step(cell_w)
    canvas.text(x0 - 6, y + 9, "layer", "n", "end")
    for i, layer in enumerate(view.layers):
        if layer % step == 0:
            canvas.text(x0 + i * cell_w + cell_w // 2, y + 9, str(layer), "n", "middle")
    y += 14
    if view.layer_kinds:
        for position, label in ((0, "mixer"), (1, "feed-forward")):
            canvas.text(x0 - 6, y + STRIP - 1, label, "n", "end")
            for i, layer in enumerate(view.layers):
                kind = view.layer_kinds.get(layer)
                if kind and kind[position] != NO_KIND:
                    canvas.add(
                        f"<g><title>Layer {layer}: {_text(kind[position])}</title>"
                        + canvas.rect(
                            x0 + i * cell_w,
                            y,
                            cell_w - GAP,
                            STRIP - 2,
                            kinds[position][kind[position]],
                        )
                        + "</g>"
                    )
            y += STRIP
        # the strips' own legend, under them
        x = x0
        for name, cls in [*kinds[0].items(), *kinds[1].items()]:
            canvas.add(canvas.rect(x, y + 1, 10, 8, cls))
            canvas.text(x + 13, y + 9, name, "n")
            x += 13 + 6 * len(name) + 12
        y += 14
    for component, label in view.rows:
        canvas.text(x0 - 6, y + ROW - 5, _short(_row_label(view, component, label)), anchor="end")
        for i, layer in enumerate(view.layers):
            cell = view.cells.get((component, layer))
            cx = x0 + i * cell_w
            if cell is None:
                rects = [canvas.rect(cx, y, cell_w - GAP, ROW - GAP, "p-absent")]
            else:
                rects = _cell_rects(canvas, cell, cx, y, cell_w - GAP, ROW - GAP)
                if cell.changed:
                    rects.append(
                        f'<rect x="{cx + 1}" y="{y + 1}" width="{cell_w - GAP - 2}" height="{ROW - GAP - 2}" class="chg"/>'
                    )
            title = _text(view.cell_title(component, layer))
            canvas.add(f'<g role="img"><title>{title}</title>{"".join(rects)}</g>')
        y += ROW
    return y
