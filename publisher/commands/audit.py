"""`publisher audit CHECKPOINT|REPO_ID`: which layers stayed BF16, from the files alone."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from publisher.commands.common import add_format_option, printable, write_atomically
from publisher.errors import EXIT_FINDINGS, EXIT_OK, InputError

NAME = "audit"
HELP = "show which modules were quantized and which stayed BF16 (no spec needed)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        help="a checkpoint folder, or a Hub repo id (owner/name) when no such folder exists",
    )
    parser.add_argument("--revision", help="branch, tag or commit, for a Hub repo")
    parser.add_argument(
        "--against", help="another checkpoint (folder or repo id): show what changed in precision"
    )
    parser.add_argument(
        "--write-manifest",
        action="store_true",
        help="write quantization_audit.json into the checkpoint folder",
    )
    parser.add_argument(
        "--verify",
        type=Path,
        metavar="MANIFEST",
        help="re-check the checkpoint against a quantization_audit.json",
    )
    add_format_option(parser, ("text", "json", "markdown", "html", "svg"))
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE instead of standard output (html: a self-contained page"
        " with the precision map; svg: the map alone, as push publishes it)",
    )


def load(target: str, revision: str | None) -> Any:
    """Audit a local folder, or a Hub repo read by range requests."""
    from publisher.api import audit

    return audit(target, revision)


def run(args: argparse.Namespace) -> int:
    from publisher.checkpoint.audit import MANIFEST_NAME, compare, manifest, verify_manifest
    from publisher.commands.common import render_markdown, render_text
    from publisher.findings import has_errors
    from publisher.report import render_json

    result = load(args.checkpoint, args.revision)
    if args.verify:
        expected = _read_manifest(args.verify)
        # the checkpoint's own defects count too: a corrupt header does not verify
        findings = result.findings + verify_manifest(expected, result, str(args.verify))
        if args.format == "json":
            sys.stdout.write(render_json(findings, verified=not has_errors(findings)))
        else:
            sys.stdout.write(
                (render_markdown if args.format == "markdown" else render_text)(findings)
            )
        return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
    if args.write_manifest:
        folder = Path(args.checkpoint)
        if not folder.is_dir():
            raise InputError(
                "--write-manifest needs a local checkpoint folder", where=args.checkpoint
            )
        if has_errors(result.findings):  # a manifest must not vouch for a broken checkpoint
            sys.stdout.write(render_text(result.findings))
            sys.stdout.write(f"{MANIFEST_NAME} not written: fix the findings first\n")
            return EXIT_FINDINGS
        target = folder / MANIFEST_NAME
        write_atomically(target, json.dumps(manifest(result), indent=2, sort_keys=True) + "\n")
        print(f"wrote {target} ({len(result.modules):,} modules)")
        return EXIT_OK
    changes = compare(result, load(args.against, None)) if args.against else None
    if args.format in ("html", "svg"):
        text = _picture(result, args.format, changes, args.against, args.checkpoint)
    else:
        text = format_audit(result, args.format, changes, args.against)
    if args.output is not None:
        _write_output(args.output, text)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK


def _picture(
    result: Any,
    fmt: str,
    changes: list[tuple[str, str, str]] | None,
    against: str | None,
    target: str,
) -> str:
    """The HTML report or the SVG map alone (drawn from the audit, never from a spec)."""
    from publisher.auditview import build_map, draw_svg
    from publisher.auditview.report import audit_page

    title = Path(target).name if Path(target).exists() else target
    view = build_map(result, title=title, changes=changes, against=against)
    if fmt == "svg":
        return draw_svg(view)
    return audit_page(result, changes, against, title=title, view=view)


def _write_output(path: Path, text: str) -> None:
    """Write a report file; an existing folder or a missing parent is the user's to fix."""
    if path.is_dir():
        raise InputError("is a folder; give a file name such as report.html", where=str(path))
    if not path.parent.is_dir():
        raise InputError("its folder does not exist; create it first", where=str(path))
    try:
        write_atomically(path, text)
    except OSError as error:
        raise InputError(f"cannot write the report: {error.strerror}", where=str(path)) from None


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("manifest not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"not a readable JSON manifest: {error}", where=str(path)) from None
    except (RecursionError, ValueError):  # nested too deeply, a 5,000-digit number
        raise InputError("not a usable JSON manifest", where=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("the manifest is not a JSON object", where=str(path))
    return data


def _layer_table_line(qc: Any) -> list[str]:
    """The per-layer table of a MIXED_PRECISION config, counted by listed format."""
    if qc.layers is None:
        return []
    source = Path(qc.layers_source or "hf_quant_config.json").name
    return [f"Quantization config: {printable(qc.layer_summary())} ({source})"]


def _unknown_profile(why: str | None) -> str:
    return f"unknown (grouped by module name: {printable(why)})" if why else "unknown"


def format_audit(
    result: Any, fmt: str, changes: list[tuple[str, str, str]] | None, against: str | None
) -> str:
    from publisher.checkpoint.audit import manifest
    from publisher.checkpoint.precision import LABELS
    from publisher.checkpoint.report_tables import markdown_table, precision_counts, text_table
    from publisher.commands.common import render_markdown, render_text
    from publisher.report import render_json

    if fmt == "json":
        extra: dict[str, Any] = {"audit": manifest(result), "profile": result.profile}
        if result.unrecognised:
            extra["unrecognised"] = result.unrecognised
        if changes is not None:
            extra["changes"] = [{"module": m, "before": a, "after": b} for m, a, b in changes]
        return render_json(result.findings, **extra)
    base_table = markdown_table if fmt == "markdown" else text_table

    def table(header: list[str], rows: list[list[str]]) -> str:  # module names may be hostile
        return base_table(
            [printable(c) for c in header], [[printable(c) for c in row] for row in rows]
        )

    qc = result.quant_config
    lines = [
        f"Checkpoint: {result.root}",
        f"Format: {result.detected_format} (quant config: {qc.format}, producer {qc.producer or '-'} {qc.producer_version or ''}, group size {qc.group_size or '-'})",
        *_layer_table_line(qc),
        f"Architecture profile: {result.profile or _unknown_profile(result.unrecognised)}",
        f"Parameters: {result.logical_parameters:,} logical (packed FP4 counted ×2, scales apart); "
        f"{result.stored_elements:,} stored elements (what the Hub's size panel counts)",
        f"mtp.* tensors: {result.mtp_tensors}",
        "",
    ]
    sections = ["\n".join(lines)]
    sections.append(
        table(
            ["Component", "Modules by precision"],
            [[s.label, precision_counts(s.counts)] for s in result.components],
        )
    )
    dtype_rows = [
        [d, f"{n:,}", f"{result.bytes_by_dtype.get(d, 0):,}"]
        for d, n in result.tensors_by_dtype.items()
    ]
    sections.append(table(["Dtype", "Tensors", "Bytes"], dtype_rows))
    if result.matrix:
        legend = "Layer matrix (Q4 = NVFP4, Q8 = FP8, B = BF16, F = F32, · = none):"
        sections.append(
            legend
            + "\n\n"
            + table(
                ["Layer", *result.matrix_header],
                [[str(layer), *cells] for layer, cells in result.matrix],
            )
        )
    if changes is not None:
        rows = [[m, LABELS.get(a, a), LABELS.get(b, b)] for m, a, b in changes]
        sections.append(
            f"Precision changes against {against}: {len(rows)}\n\n"
            + (table(["Module", "Before", "After"], rows) if rows else "none\n")
        )
    findings = (
        render_markdown(result.findings) if fmt == "markdown" else render_text(result.findings)
    )
    return "\n".join(sections) + "\n" + findings
