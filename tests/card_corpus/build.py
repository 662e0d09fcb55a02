"""Write the check-card corpus: clean cards in the styles people publish in, and cards with
planted defects of every class, each listed in manifest.yaml with the findings it must get.

    .venv/bin/python -m tests.card_corpus.build   # rewrites clean/, defects/, manifest.yaml

The facts come from the specs in model_specs/ (which cite the public configs and cards); the
prose is ours. A planted defect is an edit of a clean card; manifest.yaml names the code and
a snippet of the line the finding must point at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SPECS = (
    "Qwen3.5-0.8B",
    "Qwen3.5-2B",
    "Qwen3.5-2B-NVFP4",
    "Qwen3.5-27B-NVFP4",
    "Qwen3.5-35B-A3B-NVFP4",
)


@dataclass
class Facts:
    spec: str
    name: str
    repo_id: str
    base: str | None
    params: str
    active: str | None
    layers: int
    hidden: int
    q_heads: int
    kv_heads: int
    head_dim: int
    context: int
    vocab: int
    layout: str
    experts: int | None
    routed: int | None
    quant: str | None  # NVFP4 or None

    @property
    def kind(self) -> str:
        return "mixture-of-experts" if self.experts else "dense"


def load_facts(name: str) -> Facts:
    from publisher.spec.loader import load_spec

    spec = load_spec(REPO / "model_specs" / f"{name}.yaml").spec
    assert spec is not None
    arch = spec.architecture
    return Facts(
        spec=f"model_specs/{name}.yaml",
        name=spec.name,
        repo_id=spec.repo_id,
        base=spec.hub.base_model[0] if spec.hub.base_model else None,
        params=arch.parameters.total,
        active=arch.parameters.active,
        layers=arch.num_layers,
        hidden=arch.hidden_size,
        q_heads=arch.attention.q_heads,
        kv_heads=arch.attention.kv_heads,
        head_dim=arch.attention.head_dim,
        context=arch.context.native,
        vocab=arch.vocab_size,
        layout=arch.layout.replace("x", "×").replace("->", "→"),
        experts=arch.moe.experts if arch.moe else None,
        routed=arch.moe.routed if arch.moe else None,
        quant="NVFP4" if spec.quantization else None,
    )


def frontmatter(f: Facts) -> str:
    lines = ["---", "license: apache-2.0", "pipeline_tag: image-text-to-text"]
    lines.append("library_name: transformers")
    if f.base:
        lines += ["base_model:", f"- {f.base}", "base_model_relation: quantized"]
    lines += ["tags:", "- qwen3_5", "---"]
    return "\n".join(lines)


def intro(f: Facts) -> str:
    what = (
        f"an {f.quant} quantization of [{f.base}](https://huggingface.co/{f.base})"
        if f.base
        else "a multimodal model"
    )
    return (
        f"{f.name} is {what}: a {f.kind} model that reads text, images and video and "
        "answers in text."
    )


def _moe_rows(f: Facts) -> list[tuple[str, str]]:
    if not f.experts:
        return []
    return [("Experts", f"{f.experts}"), ("Activated experts", f"{f.routed} routed + 1 shared")]


def fact_rows(f: Facts) -> list[tuple[str, str]]:
    return [
        ("Parameters", f.params + (f" ({f.active} active)" if f.active else "")),
        ("Layers", str(f.layers)),
        ("Hidden size", f"{f.hidden:,}"),
        ("Attention heads", f"{f.q_heads} for Q, {f.kv_heads} for KV"),
        ("Head dim", str(f.head_dim)),
        *_moe_rows(f),
        ("Context length", f"{f.context:,} tokens"),
        ("Vocabulary", f"{f.vocab:,}"),
        ("Layout", f.layout),
    ]


def serve(f: Facts) -> str:
    return f"```bash\nvllm serve {f.repo_id} --max-model-len 32768\n```"


# --- styles ------------------------------------------------------------------------------


def style_plain(f: Facts) -> str:
    bullets = "\n".join(f"- **{k}**: {v}" for k, v in fact_rows(f))
    return (
        f"{frontmatter(f)}\n\n# {f.name}\n\n{intro(f)}\n\n## Model details\n\n{bullets}\n\n"
        f"## Serving\n\n{serve(f)}\n"
    )


def style_badges(f: Facts) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in fact_rows(f))
    return (
        f'{frontmatter(f)}\n\n<div align="center">\n'
        '<img src="https://example.org/logo.png" width="300"/>\n</div>\n\n'
        f"# 🚀 {f.name}\n\n"
        "[![License](https://img.shields.io/badge/license-apache--2.0-blue)](LICENSE) "
        "[![vLLM](https://img.shields.io/badge/vLLM-0.12-green)](https://docs.vllm.ai)\n\n"
        f"{intro(f)}\n\n## 📐 Architecture\n\n| | |\n|---|---|\n{rows}\n\n"
        f"## ⚡ Quick start\n\n{serve(f)}\n"
    )


def style_html(f: Facts) -> str:
    rows = "\n".join(
        f"  <tr>\n    <td>{k}</td>\n    <td>{v}</td>\n  </tr>" for k, v in fact_rows(f)
    )
    return (
        f'{frontmatter(f)}\n\n<h1 align="center">{f.name}</h1>\n\n<p>{intro(f)}</p>\n\n'
        "<table>\n  <thead>\n  <tr>\n    <th>\n      Property\n    </th>\n"
        "    <th>\n      Value\n    </th>\n  </tr>\n  </thead>\n"
        f"{rows}\n</table>\n\n## Usage\n\n{serve(f)}\n"
    )


def style_details(f: Facts) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in fact_rows(f))
    return (
        f"{frontmatter(f)}\n\n# {f.name}\n\n> [!NOTE]\n> {intro(f)}\n\n"
        "<details>\n<summary><b>Architecture (click to expand)</b></summary>\n\n"
        f"| Property | Value |\n|:---|:---|\n{rows}\n\n</details>\n\n"
        f"<details><summary>Serving</summary>\n\n{serve(f)}\n\n</details>\n"
    )


def style_setext(f: Facts) -> str:
    moe = f" Each token is routed to {f.routed} of its {f.experts} experts." if f.experts else ""
    return (
        f"{frontmatter(f)}\n\n{f.name}\n{'=' * len(f.name)}\n\n{intro(f)}\n\nOverview\n--------\n\n"
        f"The network is a stack of {f.layers} layers with a hidden size of {f.hidden}, "
        f"{f.q_heads} query heads and {f.kv_heads} KV heads.{moe} "
        f"It reads a context of up to {f.context:,} tokens and has a vocabulary of "
        f"{f.vocab:,}.\n\nLayer layout: {f.layout}\n\nServing\n-------\n\n{serve(f)}\n"
    )


STYLES: dict[str, Callable[[Facts], str]] = {
    "plain": style_plain,
    "badges": style_badges,
    "html": style_html,
    "details": style_details,
    "setext": style_setext,
}


# --- planted defects -----------------------------------------------------------------------


@dataclass
class Defect:
    name: str
    spec: str
    style: str
    edit: Callable[[str], str]
    expect: list[tuple[str, str]]  # (code, a snippet of the line the finding points at)
    with_spec: bool = True


def sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)

    return edit


def regex(pattern: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        result, n = re.subn(pattern, new, text, count=1, flags=re.M)
        assert n, pattern
        return result

    return edit


def chain(*edits: Callable[[str], str]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        for e in edits:
            text = e(text)
        return text

    return edit


def append(block: str) -> Callable[[str], str]:
    return lambda text: text.rstrip("\n") + "\n\n" + block.strip("\n") + "\n"


COMPONENT_OVERLAP = """## Kept in BF16 (1,211 tensors)

| Component | Count | Notes |
|---|---|---|
| Norms | 97 | every RMSNorm |
| linear_attn | 162 | 9 tensors per DeltaNet layer |
| Visual encoder | 952 | all vision tensors |
"""
COMPONENT_SUM = """### Quantized to NVFP4 (190 modules)

| Component | Count | Detail |
|---|---|---|
| MLP projections | 72 (24×3) | gate, up, down |
| DeltaNet projections | 90 (18×5) | qkv, z, a, b, out |
| Full-attention projections | 24 (6×4) | q, k, v, o |
"""
COMPONENT_PRODUCT = """### Quantized to NVFP4 (186 modules)

| Component | Count | Detail |
|---|---|---|
| MLP projections | 72 (24×3) | gate, up, down |
| DeltaNet projections | 90 (18×4) | qkv, z, a, b, out |
| Full-attention projections | 24 (6×4) | q, k, v, o |
"""
COMPONENT_DOUBLE = """### Quantized to NVFP4 (187 modules)

| Component | Count | Detail |
|---|---|---|
| MLP projections | 72 | gate, up, down |
| DeltaNet projections | 90 | qkv, z, a, b, out |
| Full-attention projections | 24 | q, k, v, o |
| LM head | 1 | output |

### Kept in BF16

| Component | Count | Why |
|---|---|---|
| LM head | 1 | output quality |
| Vision encoder (all) | 300 | image quality |
"""
COVERAGE_QUANTIZED = """### Quantized to NVFP4

| Component | Count |
|---|---|
| MLP projections | 192 |
| Vision encoder linears | 110 |
"""
COVERAGE_KEPT = """Kept in BF16:

| Component | Count |
|---|---|
| LM head | 1 |
| DeltaNet projections | 90 |
"""
MIXED_HEADER_TABLE = """## Benchmarks

| MMLU-Pro | Base | This model |
|---|---|---|---|
| IFEval | 78.6 | 78.1 | 99% |
| C-Eval | 73.2 | 72.9 | 99% |
"""
SHIFTED_HEADER = """## Benchmarks

| Base | Quantized | |
|---|---|---|
| MMLU-Pro | 66.5 | 66.1 |
| IFEval | 78.6 | 78.1 |
"""
COPIED_SCORES = """## Benchmarks

| Benchmark | Base | NVFP4 |
|---|---|---|
| MMLU-Pro | 66.5 | 66.5 |
| IFEval | 78.6 | 78.6 |
| C-Eval | 73.2 | 73.2 |
"""
SHORT_ROW = """## Benchmarks

| Benchmark | Base | NVFP4 |
|---|---|---|
| MMLU-Pro | 66.5 | 66.1 |
| IFEval | 78.6 |
"""
UNNAMED_FIRST = """## Benchmarks

| | Base | NVFP4 |
|---|---|---|
| MMLU-Pro | 66.5 | 66.1 |
| IFEval | 78.6 | 78.1 |
"""
FORMAT_WRONG = """## Stored format

- `X.weight` — U8, shape [out, in/2]: two FP4 values in each byte.
- `X.weight_scale` — F8_E4M3, shape [out, in/16]: one scale per 16 weights.
- `X.weight_scale_2` — BF16, shape [1]: the global scale.
- `X.input_scale` — F32 scalar: the activation scale.
"""
FORMAT_SUFFIX = """## Stored format

- `X.weight_packed` — U8, shape [out, in/2]: two FP4 values in each byte.
- `X.weight_scale` — F8_E4M3, shape [out, in/16]: one scale per 16 weights.
"""


def defects() -> list[Defect]:
    d: list[Defect] = []
    add = d.append
    # -- architecture numbers (CARD301) in every style ------------------------------------
    add(
        Defect(
            "layers-bullet",
            "Qwen3.5-2B",
            "plain",
            sub("- **Layers**: 24", "- **Layers**: 28"),
            [("CARD301", "**Layers**: 28")],
        )
    )
    add(
        Defect(
            "hidden-kv-table",
            "Qwen3.5-2B",
            "badges",
            sub("| Hidden size | 2,048 |", "| Hidden size | 4,096 |"),
            [("CARD301", "| Hidden size | 4,096 |")],
        )
    )
    add(
        Defect(
            "heads-html",
            "Qwen3.5-2B",
            "html",
            sub("<td>8 for Q, 2 for KV</td>", "<td>16 for Q, 4 for KV</td>"),
            [("CARD301", "<td>16 for Q")],
        )
    )
    add(
        Defect(
            "context-details",
            "Qwen3.5-2B",
            "details",
            sub("| Context length | 262,144 tokens |", "| Context length | 131,072 tokens |"),
            [("CARD301", "| Context length | 131,072")],
        )
    )
    add(
        Defect(
            "prose-numbers",
            "Qwen3.5-0.8B",
            "setext",
            sub("stack of 24 layers", "stack of 28 layers"),
            [("CARD301", "stack of 28 layers")],
        )
    )
    add(
        Defect(
            "prose-heads",
            "Qwen3.5-0.8B",
            "setext",
            sub("8 query heads and 2 KV heads", "16 query heads and 4 KV heads"),
            [("CARD301", "16 query heads")],
        )
    )
    add(
        Defect(
            "vocab-plain",
            "Qwen3.5-27B-NVFP4",
            "plain",
            sub("- **Vocabulary**: 248,320", "- **Vocabulary**: 151,936"),
            [("CARD301", "**Vocabulary**: 151,936")],
        )
    )
    add(
        Defect(
            "head-dim-badges",
            "Qwen3.5-27B-NVFP4",
            "badges",
            sub("| Head dim | 256 |", "| Head dim | 128 |"),
            [("CARD301", "| Head dim | 128 |")],
        )
    )
    add(
        Defect(
            "experts-details",
            "Qwen3.5-35B-A3B-NVFP4",
            "details",
            sub("| Experts | 256 |", "| Experts | 128 |"),
            [("CARD301", "| Experts | 128 |")],
        )
    )
    add(
        Defect(
            "active-experts-setext",
            "Qwen3.5-35B-A3B-NVFP4",
            "setext",
            sub("routed to 8 of its 256 experts", "routed to 8 of its 512 experts"),
            [("CARD301", "512 experts")],
        )
    )
    add(
        Defect(
            "active-params",
            "Qwen3.5-35B-A3B-NVFP4",
            "plain",
            sub("35B (3B active)", "35B (7B active)"),
            [("CARD301", "7B active")],
        )
    )
    add(
        Defect(
            "context-prose",
            "Qwen3.5-2B-NVFP4",
            "setext",
            sub("up to 262,144 tokens", "up to 32,768 tokens"),
            [("CARD301", "32,768 tokens")],
        )
    )
    add(
        Defect(
            "html-context",
            "Qwen3.5-35B-A3B-NVFP4",
            "html",
            sub("<td>262,144 tokens</td>", "<td>128K tokens</td>"),
            [("CARD301", "<td>128K tokens")],
        )
    )
    # -- layout (CARD302), dense vs MoE (CARD303), format (CARD304) ----------------------
    add(
        Defect(
            "layout-bullet",
            "Qwen3.5-2B",
            "plain",
            sub("**Layout**: 6 ×", "**Layout**: 8 ×"),
            [("CARD302", "**Layout**: 8 ×")],
        )
    )
    add(
        Defect(
            "layout-prose",
            "Qwen3.5-27B-NVFP4",
            "setext",
            sub("Layer layout: 16 ×", "Layer layout: 12 ×"),
            [("CARD302", "Layer layout: 12")],
        )
    )
    add(
        Defect(
            "dense-called-moe",
            "Qwen3.5-2B",
            "badges",
            sub("a dense model", "a sparse Mixture-of-Experts model"),
            [("CARD303", "Mixture-of-Experts")],
        )
    )
    add(
        Defect(
            "moe-called-dense",
            "Qwen3.5-35B-A3B-NVFP4",
            "plain",
            sub("a mixture-of-experts model", "a dense transformer"),
            [("CARD303", "a dense transformer")],
        )
    )
    add(
        Defect(
            "format-fp8",
            "Qwen3.5-27B-NVFP4",
            "details",
            append("The weights are quantized to FP8 with per-tensor scales."),
            [("CARD304", "quantized to FP8")],
        )
    )
    add(
        Defect(
            "format-bf16-says-nvfp4",
            "Qwen3.5-0.8B",
            "plain",
            append("## Quantization\n\n- **Format**: NVFP4 (ModelOpt)"),
            [("CARD304", "**Format**: NVFP4")],
        )
    )
    add(
        Defect(
            "format-details",
            "Qwen3.5-2B-NVFP4",
            "plain",
            append(FORMAT_WRONG),
            [("CARD306", "`X.weight_scale_2` — BF16")],
        )
    )
    add(
        Defect(
            "format-suffix",
            "Qwen3.5-27B-NVFP4",
            "badges",
            append(FORMAT_SUFFIX),
            [("CARD306", "`X.weight_packed`")],
        )
    )
    # -- component tables (CARD307, CARD017, CARD018, CARD019) --------------------------
    add(
        Defect(
            "overlap-spec",
            "Qwen3.5-2B",
            "plain",
            append(COMPONENT_OVERLAP),
            [("CARD307", "| linear_attn |"), ("CARD307", "| Visual encoder |")],
        )
    )
    add(
        Defect(
            "overlap-nospec",
            "Qwen3.5-27B-NVFP4",
            "badges",
            append(COMPONENT_OVERLAP),
            [("CARD307", "| linear_attn |"), ("CARD307", "| Visual encoder |")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "overlap-moe",
            "Qwen3.5-35B-A3B-NVFP4",
            "details",
            append(
                "## Kept in BF16\n\n| Component | Count |\n|---|---|\n| Router | 40 |\n| Shared expert | 120 |\n| Gates (router and shared-expert gate) | 80 |\n"
            ),
            [("CARD307", "| Gates (router")],
        )
    )
    add(
        Defect(
            "coverage",
            "Qwen3.5-27B-NVFP4",
            "plain",
            append(COVERAGE_QUANTIZED),
            [("CARD308", "| Vision encoder linears |")],
        )
    )
    add(
        Defect(
            "coverage-prose",
            "Qwen3.5-35B-A3B-NVFP4",
            "setext",
            append("The routed experts are kept in BF16; only attention is quantized."),
            [("CARD308", "routed experts are kept in BF16")],
        )
    )
    add(
        Defect(
            "coverage-kept",
            "Qwen3.5-2B-NVFP4",
            "setext",
            append(COVERAGE_KEPT),
            [("CARD308", "| DeltaNet projections |")],
        )
    )
    add(
        Defect(
            "sum",
            "Qwen3.5-2B-NVFP4",
            "plain",
            append(COMPONENT_SUM),
            [("CARD017", "Quantized to NVFP4 (190")],
        )
    )
    add(
        Defect(
            "product",
            "Qwen3.5-2B-NVFP4",
            "badges",
            append(COMPONENT_PRODUCT),
            [("CARD019", "| DeltaNet projections |")],
        )
    )
    add(
        Defect(
            "double",
            "Qwen3.5-2B-NVFP4",
            "details",
            append(COMPONENT_DOUBLE),
            [("CARD018", "| LM head | 1 | output |")],
        )
    )
    # -- frontmatter and metadata ------------------------------------------------------
    add(
        Defect(
            "no-frontmatter",
            "Qwen3.5-2B",
            "plain",
            regex(r"\A---\n(?:.*\n)*?---\n", ""),
            [("CARD001", "")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "collapsed",
            "Qwen3.5-2B-NVFP4",
            "badges",
            lambda t: re.sub(
                r"\A---\n((?:.*\n)*?)---\n",
                lambda m: "--- " + m.group(1).replace("\n", " ") + "---\n",
                t,
                count=1,
            ),
            [("CARD002", "--- license")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "bad-yaml",
            "Qwen3.5-0.8B",
            "details",
            sub("pipeline_tag: image-text-to-text", "pipeline_tag: [image-text-to-text"),
            [("CARD003", "library_name: transformers")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "pipeline-tag",
            "Qwen3.5-0.8B",
            "plain",
            sub("pipeline_tag: image-text-to-text", "pipeline_tag: image-to-text-generation"),
            [("CARD004", "pipeline_tag:")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "license",
            "Qwen3.5-2B",
            "html",
            sub("license: apache-2.0", "license: apache2"),
            [("CARD005", "license: apache2")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "library",
            "Qwen3.5-2B",
            "setext",
            sub("library_name: transformers", "library_name: vllm"),
            [("CARD006", "library_name: vllm")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "relation",
            "Qwen3.5-2B-NVFP4",
            "plain",
            sub("base_model_relation: quantized", "base_model_relation: quantised"),
            [("CARD007", "base_model_relation")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "base-id",
            "Qwen3.5-27B-NVFP4",
            "plain",
            sub("- Qwen/Qwen3.5-27B\n", "- Qwen3.5-27B\n"),
            [("CARD008", "- Qwen3.5-27B")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "license-other",
            "Qwen3.5-2B",
            "badges",
            sub("license: apache-2.0", "license: other"),
            [("CARD024", "license: other")],
            with_spec=False,
        )
    )
    # -- claims within the card, repo ids, encoding --------------------------------------
    add(
        Defect(
            "text-base",
            "Qwen3.5-27B-NVFP4",
            "setext",
            sub(
                "an NVFP4 quantization of [Qwen/Qwen3.5-27B]",
                "an NVFP4 quantization of [Qwen/Qwen3.5-14B]",
            ),
            [("CARD009", "Qwen/Qwen3.5-14B")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "params-title",
            "Qwen3.5-2B",
            "plain",
            sub("- **Parameters**: 2B", "- **Parameters**: 9B"),
            [("CARD010", "**Parameters**: 9B")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "two-owners",
            "Qwen3.5-2B-NVFP4",
            "plain",
            append("```bash\nhf download someone-else/Qwen3.5-2B-NVFP4\n```"),
            [("CARD011", "someone-else/Qwen3.5-2B-NVFP4")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "mojibake",
            "Qwen3.5-0.8B",
            "setext",
            append("Memory use drops about 2Γ— with FP8 KV cache β†’ see below."),
            [("CARD012", "Memory use drops")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "short-row",
            "Qwen3.5-2B",
            "details",
            append(SHORT_ROW),
            [("CARD013", "| IFEval | 78.6 |")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "delimiter",
            "Qwen3.5-2B",
            "plain",
            append(MIXED_HEADER_TABLE),
            [("CARD013", "|---|---|---|---|")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "shifted-header",
            "Qwen3.5-2B-NVFP4",
            "html",
            append(SHIFTED_HEADER),
            [("CARD014", "| Base | Quantized | |")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "unnamed-first",
            "Qwen3.5-0.8B",
            "badges",
            append(UNNAMED_FIRST),
            [("CARD015", "| | Base | NVFP4 |")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "copied-scores",
            "Qwen3.5-27B-NVFP4",
            "plain",
            append(COPIED_SCORES),
            [("CARD016", "| Benchmark | Base | NVFP4 |")],
            with_spec=False,
        )
    )
    add(
        Defect(
            "no-base",
            "Qwen3.5-2B-NVFP4",
            "setext",
            regex(r"^base_model:\n- .*\nbase_model_relation: quantized\n", ""),
            [("CARD023", "quantization of [Qwen/")],
            with_spec=False,
        )
    )
    # -- against the spec: owner, base, parameters ---------------------------------------
    add(
        Defect(
            "spec-owner",
            "Qwen3.5-27B-NVFP4",
            "badges",
            sub("vllm serve publisher-demo/", "vllm serve mirror-org/"),
            [("CARD020", "vllm serve mirror-org/")],
        )
    )
    add(
        Defect(
            "spec-base",
            "Qwen3.5-2B-NVFP4",
            "plain",
            sub("- Qwen/Qwen3.5-2B\n", "- Qwen/Qwen3-1.7B\n"),
            [("CARD021", "- Qwen/Qwen3-1.7B"), ("CARD009", "quantization of [Qwen/Qwen3.5-2B]")],
        )
    )
    add(
        Defect(
            "spec-params",
            "Qwen3.5-0.8B",
            "details",
            sub("| Parameters | 0.8B |", "| Parameters | 2B |"),
            [("CARD022", "| Parameters | 2B |"), ("CARD010", "| Parameters | 2B |")],
        )
    )
    # -- other families: publisher's own cards with one planted defect each ----------------
    families = [
        (
            "llama-layers",
            "Llama-3.1-8B-Instruct-NVFP4",
            sub("| Layers | 32 |", "| Layers | 40 |"),
            [("CARD301", "| Layers | 40 |")],
            True,
        ),
        (
            "deepseek-dense",
            "DeepSeek-V3.1-NVFP4",
            append("A dense transformer with multi-head latent attention."),
            [("CARD303", "A dense transformer")],
            True,
        ),
        (
            "deepseek-layout",
            "DeepSeek-V3.1-NVFP4",
            sub(
                "| Hidden layout | 3 × (MLA → FFN) → 58 ×",
                "| Hidden layout | 3 × (MLA → FFN) → 48 ×",
            ),
            [("CARD302", "| Hidden layout | 3 ×")],
            True,
        ),
        (
            "qwen3-moe-experts",
            "Qwen3-30B-A3B-NVFP4",
            sub("| Mixture of experts | 128 experts;", "| Mixture of experts | 64 experts;"),
            [("CARD301", "| Mixture of experts | 64")],
            True,
        ),
        (
            "gemma-context",
            "Gemma-3-27B-IT-NVFP4",
            sub("| Context | 131,072 tokens native |", "| Context | 32,768 tokens native |"),
            [("CARD301", "| Context | 32,768")],
            True,
        ),
        (
            "mistral-heads",
            "Mistral-7B-Instruct-v0.3-NVFP4",
            sub(
                "| Attention heads | 32 for Q, 8 for KV;",
                "| Attention heads | 32 for Q, 32 for KV;",
            ),
            [("CARD301", "| Attention heads | 32 for Q, 32")],
            True,
        ),
        (
            "llama-overlap",
            "Llama-3.1-8B-Instruct-NVFP4",
            append(
                "### Kept in BF16 (99 tensors)\n\n| Component | Count |\n|---|---|\n| Norms | 65 |\n| input_layernorm | 32 |\n| LM head | 1 |\n"
            ),
            [("CARD307", "| input_layernorm | 32 |")],
            False,
        ),
        (
            "nemotron-format",
            "Nemotron-H-8B-Base-8K-NVFP4",
            append("The weights are quantized to FP8 for Hopper GPUs."),
            [("CARD304", "quantized to FP8")],
            True,
        ),
    ]
    for name, spec, edit, expect, with_spec in families:
        add(Defect(name, spec, "golden", edit, expect, with_spec=with_spec))
    return d


def main() -> None:
    facts = {name: load_facts(name) for name in SPECS}
    manifest: dict[str, list[dict[str, object]]] = {"clean": [], "defects": []}
    for folder in ("clean", "defects"):
        (HERE / folder).mkdir(exist_ok=True)
        for old in (HERE / folder).glob("*.md"):
            old.unlink()
    for name, f in facts.items():
        for style, render in STYLES.items():
            path = HERE / "clean" / f"{name}-{style}.md"
            path.write_text(render(f), encoding="utf-8")
            manifest["clean"].append({"card": f"clean/{path.name}", "spec": f.spec})
    handwritten = {
        "35b-family.md": "Qwen3.5-35B-A3B-NVFP4",
        "2b-overview.md": "Qwen3.5-2B",
        "27b-quant-notes.md": "Qwen3.5-27B-NVFP4",
        "08b-chat.md": "Qwen3.5-0.8B",
    }
    for card, name in handwritten.items():  # written by hand, in the styles people use
        manifest["clean"].append(
            {"card": f"handwritten/{card}", "spec": f"model_specs/{name}.yaml"}
        )
    for golden in sorted((HERE.parent / "golden").glob("*.md")):  # publisher's own cards
        spec = REPO / "model_specs" / f"{golden.stem}.yaml"
        if spec.exists():
            manifest["clean"].append(
                {"card": f"../golden/{golden.name}", "spec": f"model_specs/{spec.name}"}
            )
    handwritten_defects = {
        "bad-35b-overview.md": (
            "Qwen3.5-35B-A3B-NVFP4",
            [
                ("CARD301", "Number of Layers: 48"),
                ("CARD301", "16 for Q and 4 for KV"),
                ("CARD301", "10 Routed + 1 Shared"),
                ("CARD308", "| Shared expert | 120 |"),
                ("CARD307", "| LayerNorms | 401 |"),
            ],
        ),
        "bad-27b-html.md": (
            "Qwen3.5-27B-NVFP4",
            [("CARD301", "<td>152,064</td>"), ("CARD306", "shape [out, in/32]")],
        ),
    }
    for card, (name, expect) in handwritten_defects.items():
        manifest["defects"].append(
            {
                "card": f"handwritten/{card}",
                "spec": f"model_specs/{name}.yaml",
                "expect": [{"code": c, "at": at} for c, at in expect],
            }
        )
    for defect in defects():
        if defect.style == "golden":  # another family: publisher's own card, edited
            spec_file = f"model_specs/{defect.spec}.yaml"
            base = (HERE.parent / "golden" / f"{defect.spec}.md").read_text(encoding="utf-8")
            text = defect.edit(base)
            manifest["defects"].append(
                {
                    "card": f"defects/{defect.name}.md",
                    "spec": spec_file if defect.with_spec else None,
                    "expect": [{"code": c, "at": at} for c, at in defect.expect],
                }
            )
            (HERE / "defects" / f"{defect.name}.md").write_text(text, encoding="utf-8")
            continue
        f = facts[defect.spec]
        text = defect.edit(STYLES[defect.style](f))
        path = HERE / "defects" / f"{defect.name}.md"
        path.write_text(text, encoding="utf-8")
        manifest["defects"].append(
            {
                "card": f"defects/{path.name}",
                "spec": f.spec if defect.with_spec else None,
                "expect": [{"code": c, "at": at} for c, at in defect.expect],
            }
        )
    (HERE / "manifest.yaml").write_text(
        "# Written by tests/card_corpus/build.py: clean cards must get no finding; each defect\n"
        "# card must get every expected code on the line holding `at`.\n"
        + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
