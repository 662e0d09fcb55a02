"""The catalogue of card-check codes (stable: cite them, never renumber) and the one helper
that turns a code into a Finding."""

from __future__ import annotations

from publisher.card.card_source import CardSource
from publisher.findings import Finding, Location, Severity

E, W = Severity.ERROR, Severity.WARNING

CODES: dict[str, tuple[Severity, str]] = {
    "CARD001": (E, "no YAML frontmatter: the Hub shows no metadata for the model"),
    "CARD002": (
        E,
        "frontmatter lost its line breaks: the whole `--- key: v ... ---` is on one line",
    ),
    "CARD003": (E, "frontmatter is not valid YAML, not a mapping, or never closed"),
    "CARD004": (E, "pipeline_tag is not one of the Hub's pipeline tags"),
    "CARD005": (E, "license is not one of the Hub's license identifiers"),
    "CARD006": (E, "library_name is not a Hub library (a serving app such as vllm is not one)"),
    "CARD007": (E, "base_model_relation is not adapter, merge, quantized or finetune"),
    "CARD008": (E, "base_model is not a valid repo id (owner/name)"),
    "CARD009": (E, "the text names a base model that is not the frontmatter's base_model"),
    "CARD010": (E, "a parameter count in the text contradicts the title or the base model"),
    "CARD011": (E, "one repository is named under two or more owners"),
    "CARD012": (E, "mojibake: UTF-8 text decoded with the wrong code page"),
    "CARD013": (
        E,
        "a table row (or the delimiter row) has a different number of cells than the header",
    ),
    "CARD014": (E, "a table header cell is empty over a column that has values: header misaligned"),
    "CARD015": (W, "a table's first header cell is empty: the row-label column has no name"),
    "CARD016": (
        W,
        "every numeric row of a table has identical values in all columns (copy-paste?)",
    ),
    "CARD017": (E, "component counts do not add up to the total stated above the table"),
    "CARD018": (W, "a component group is counted both as quantized and as kept in full precision"),
    "CARD019": (
        E,
        "a component count does not equal the product written next to it, e.g. 192 (64×4)",
    ),
    "CARD020": (
        E,
        "the card names the model's repository under another owner than the spec's repo_id",
    ),
    "CARD021": (E, "the card's base model differs from the spec's base models"),
    "CARD022": (E, "the card's parameter count differs from the spec's"),
    "CARD023": (W, "the text names a base model but the frontmatter has no base_model"),
    "CARD024": (W, "license is 'other' but license_name is missing"),
    "CARD025": (
        Severity.ERROR,
        "the card could not be rendered: a template or metadata error (preview)",
    ),
    "CARD301": (
        E,
        "an architecture number in the card (layers, hidden size, heads, experts, context, "
        "vocabulary, parameters) contradicts the spec, config.json or the tensors",
    ),
    "CARD302": (E, "the card's layout string contradicts the spec's layout or layer count"),
    "CARD303": (E, "the card calls a dense model mixture-of-experts, or an MoE model dense"),
    "CARD304": (E, "the card names a quantization format the weights are not stored in"),
    "CARD305": (E, "a size or compression ratio in the card contradicts the checkpoint's bytes"),
    "CARD306": (
        E,
        "the card's stored-format details (tensor suffix, dtype, shape) contradict the format "
        "table or the checkpoint's headers",
    ),
    "CARD307": (
        E,
        "two rows of a component table name the same tensors: they, and a total that adds "
        "the rows up, count those tensors twice",
    ),
    "CARD308": (
        E,
        "a component-table row says quantized (or kept in full precision) but the spec or the "
        "checkpoint stores those tensors the other way",
    ),
}


def card_finding(
    card: CardSource, code: str, line: int, message: str, column: int | None = None
) -> Finding:
    """A Finding with the code's severity, located in the card."""
    return Finding(code, message, Location(card.file, line, column), CODES[code][0])
