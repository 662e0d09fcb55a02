"""A validation report as text, JSON or Markdown: the CLI, `publisher release` and the demo
print it through here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.checkpoint.precision import LABELS
from publisher.checkpoint.report_tables import markdown_table, precision_counts, text_table
from publisher.report import render_json, render_markdown, render_text

if TYPE_CHECKING:
    from publisher.checkpoint.validate import ValidationReport


def format_report(report: ValidationReport, fmt: str) -> str:
    """A validation report as text, JSON or Markdown (what `publisher validate` prints)."""
    header = ["Component", "Spec", "Spec count", "In the files", "Agrees"]
    rows = [
        [
            row.label,
            LABELS.get(row.spec_precision, row.spec_precision),
            f"{row.spec_count:,}",
            precision_counts(row.file_counts),
            "yes" if row.agrees else "NO",
        ]
        for row in report.components
    ]
    if fmt == "json":
        return render_json(
            report.findings,
            spec=report.spec_name,
            checkpoint=report.checkpoint,
            detected_format=report.detected_format,
            tensors=report.tensor_count,
            mtp_tensors=report.mtp_tensors,
            components=[
                {
                    "component": r.component,
                    "label": r.label,
                    "spec_precision": r.spec_precision,
                    "spec_count": r.spec_count,
                    "file_counts": r.file_counts,
                    "agrees": r.agrees,
                }
                for r in report.components
            ],
            ok=report.ok,
        )
    title = f"{report.spec_name} vs {report.checkpoint}: {report.tensor_count:,} tensors, format {report.detected_format}, mtp.* tensors: {report.mtp_tensors}"
    if fmt == "markdown":
        verdict = "passed" if report.ok else "failed"
        return (
            f"### Validation {verdict}: {title}\n\n"
            + markdown_table(header, rows)
            + "\n"
            + render_markdown(report.findings)
        )
    return title + "\n\n" + text_table(header, rows) + "\n" + render_text(report.findings)
