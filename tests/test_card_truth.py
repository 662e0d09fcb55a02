"""check-card against the truth: a spec, a checkpoint folder, a Hub repository. Claims in
prose, bullets, key/value and HTML tables; component rows mapped to tensors through the
profile; format prose from the format table, checked against genuine exports."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.card.check import check_card, facts_from_spec
from publisher.card.format_prose import tensor_lines
from publisher.card.truth import ModelTruth, truth_from_checkpoint, truth_from_spec
from publisher.checkpoint.formats import (
    FORMATS,
    FormatError,
    TensorSpec,
    expected_tensors,
    logical_weight_shape,
)
from publisher.checkpoint.reader import read_checkpoint
from publisher.checkpoint.validate import STORAGE_BY_SPEC
from publisher.cli import main
from publisher.findings import Finding
from publisher.spec.loader import load_spec
from publisher.testkit.producer_configs import (
    ct_quantization_config,
    fp8_block_quantization_config,
    modelopt_config_json_quantization,
    modelopt_hf_quant_config,
)
from tests.checkpoint_variants import nvfp4_modules, project_with_templates, write_variant

if TYPE_CHECKING:
    from huggingface_hub import HfApi

REPO = Path(__file__).resolve().parent.parent
SPEC_2B = REPO / "model_specs" / "Qwen3.5-2B.yaml"
FRONT = (
    "---\nlicense: apache-2.0\npipeline_tag: image-text-to-text\nlibrary_name: transformers\n---\n"
)


def spec_truth(path: Path = SPEC_2B) -> ModelTruth:
    spec = load_spec(path).spec
    assert spec is not None
    return truth_from_spec(spec)


def check(body: str, truth: ModelTruth | None = None) -> list[Finding]:
    return check_card(FRONT + body, file="README.md", truth=truth)


def codes(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.code, f.location.line) for f in findings]


# --- claims against a spec -----------------------------------------------------------------


def test_architecture_numbers_anywhere_in_the_card_are_checked_against_the_spec() -> None:
    body = (
        "# Qwen3.5-2B\n\n"  # line 6
        "It has 28 layers and a hidden size of 4096, with 16 query heads and 4 KV heads.\n\n"
        "| | |\n|---|---|\n"
        "| Context length | 131,072 tokens |\n"  # line 12
        "| Vocabulary | 248,320 |\n\n"
        "- **Number of layers**: 28\n\n"  # line 15
        "<table>\n<tr>\n  <td>Hidden size</td>\n  <td>4096</td>\n</tr>\n</table>\n"  # the value at 20
    )
    findings = check(body, spec_truth())
    assert set(codes(findings)) == {
        ("CARD301", 8),
        ("CARD301", 12),
        ("CARD301", 15),
        ("CARD301", 20),
    }
    messages = " | ".join(f.message for f in findings)
    for claimed, source in (
        ("layers 28", "spec architecture.num_layers says 24"),
        ("hidden size 4,096", "spec architecture.hidden_size says 2,048"),
        ("attention (Q) heads 16", "spec architecture.attention.q_heads says 8"),
        ("KV heads 4", "spec architecture.attention.kv_heads says 2"),
        ("context length 131,072", "spec architecture.context.native says 262,144"),
    ):
        assert claimed in messages and source in messages
    assert not any("Vocabulary" in f.message for f in findings)  # 248,320 is right


def test_true_claims_in_every_form_raise_nothing() -> None:
    body = (
        "# Qwen3.5-2B\n\nA dense model with 24 layers, 8 Q / 2 KV heads and a 256K context.\n\n"
        "| Property | Value |\n|---|---|\n| Layers | 24 |\n| Hidden size | 2,048 |\n"
        "| Attention heads | 8 for Q, 2 for KV; head dim 256 |\n"
        "| Layout | 6 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN)) |\n"
        "| Vision encoder | 24 blocks, hidden size 1,024 |\n"
    )
    assert check(body, spec_truth()) == []


def test_dense_model_called_mixture_of_experts() -> None:
    body = "# Qwen3.5-2B\n\nA fast, sparse Mixture-of-Experts model for phones.\n"
    (finding,) = check(body, spec_truth())
    assert finding.code == "CARD303" and "spec architecture.ffn (dense)" in finding.message
    compare = "# Qwen3.5-2B\n\nUnlike MoE models, every parameter is used for every token.\n"
    assert check(compare, spec_truth()) == []


def test_layout_string_and_the_layers_it_adds_up_to() -> None:
    body = (
        "# Qwen3.5-2B\n\n- Layout: 7 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))\n"
    )
    (finding,) = check(body, spec_truth())
    assert finding.code == "CARD302" and "spec architecture.layout" in finding.message


def test_quantization_format_claims() -> None:
    body = "# Qwen3.5-2B-FP8\n\nThe weights are quantized to FP8 with llm-compressor.\n"
    findings = check(body, spec_truth())  # the 2B spec is BF16: no quantization section
    assert {f.code for f in findings} == {"CARD304"}
    assert all("spec (no quantization section)" in f.message for f in findings)


# --- component tables through the profile --------------------------------------------------

OVERLAP = (
    "# Qwen3.5-2B\n\n"
    "## Kept in BF16 (1,234 tensors)\n\n"
    "| Component | Count | Notes |\n|---|---|---|\n"
    "| Norms | 100 | every RMSNorm |\n"  # line 12
    "| linear_attn | 162 | 9 tensors per DeltaNet layer |\n"  # line 13
    "| Visual encoder | 972 | all vision tensors |\n"  # line 14
)


@pytest.mark.parametrize("with_spec", [False, True])
def test_overlapping_component_rows_are_named_with_their_tensors(with_spec: bool) -> None:
    findings = check(OVERLAP, spec_truth() if with_spec else None)
    assert codes(findings) == [("CARD307", 13), ("CARD307", 14)]
    deltanet, vision = (f.message for f in findings)
    assert "'Norms'" in deltanet and "'linear_attn'" in deltanet
    assert "model.language_model.layers.{L}.linear_attn.norm" in deltanet
    assert "model.visual.blocks.{B}.norm1" in vision
    assert "the total 1234 adds the rows up" in deltanet
    if with_spec:
        assert "(18 tensors)" in deltanet  # 18 Gated DeltaNet layers in the 2B


def test_component_rows_that_partition_the_model_are_fine() -> None:
    body = (
        "# Qwen3.5-2B\n\n| Component | Count |\n|---|---|\n| Text norms | 10 |\n"
        "| DeltaNet projections | 90 |\n| Vision encoder (all) | 300 |\n| LM head | 1 |\n"
    )
    assert check(body) == []


# --- idioms that are not defects -----------------------------------------------------------


def test_key_value_table_with_an_empty_header_row_is_not_misaligned() -> None:
    body = "# M-2B\n\n| | |\n|---|---|\n| Layers | 24 |\n| Hidden size | 2,048 |\n"
    assert check(body) == []


# --- one source for format facts -----------------------------------------------------------


def test_format_prose_comes_from_the_format_table() -> None:
    heads = [line.split(":")[0].rstrip(".") for line in tensor_lines("ct_fp8")]
    assert heads == [
        "`X.weight` — F8_E4M3, shape [out, in]",
        "`X.weight_scale` — BF16, shape [1]",
        "`X.input_scale` — BF16, shape [1]",
    ]
    block = tensor_lines("fp8_block")
    assert block[1].startswith("`X.weight_scale_inv` — F32, shape [")
    assert "out/128" in block[1] and "in/128" in block[1]
    assert block[1].endswith("one scale per 128 × 128 block.")
    for storage, rule in FORMATS.items():  # every row, including rows added later
        lines = tensor_lines(storage)
        joiner = getattr(rule, "joiner", ".")
        assert [line.split("`")[1] for line in lines] == [
            f"X{joiner}{t.suffix}" for t in rule.tensors
        ]


def _restore(storage: str):  # type: ignore[no-untyped-def]
    """Re-store every NVFP4 Linear of the genuine export in `storage`."""

    def edit(tensors: dict[str, TensorSpec]) -> None:
        for module in nvfp4_modules(tensors):
            packed = tensors[f"{module}.weight"].shape
            for suffix in ("weight", "weight_scale", "weight_scale_2", "input_scale"):
                del tensors[f"{module}.{suffix}"]
            shape = logical_weight_shape("modelopt_nvfp4", packed)
            for spec in expected_tensors(module, "linear", shape, False, storage):
                tensors[spec.name] = spec

    return edit


def _configure(storage: str, ct_ignore: list[str]):  # type: ignore[no-untyped-def]
    """The quantization config its producer writes beside a checkpoint in `storage`."""

    def edit(configs: dict[str, dict[str, Any]]) -> None:
        excluded = configs["hf_quant_config.json"]["quantization"]["exclude_modules"]
        configs.pop("hf_quant_config.json")
        if storage.startswith("ct_"):
            qc = ct_quantization_config(storage, ct_ignore)
        elif storage.startswith("fp8_block"):
            qc = fp8_block_quantization_config(excluded)
        else:
            hf = modelopt_hf_quant_config(storage, excluded)
            configs["hf_quant_config.json"] = hf
            qc = modelopt_config_json_quantization(hf)
        configs["config.json"]["quantization_config"] = qc

    return edit


@pytest.fixture
def export_in(
    modelopt_dense_dir: Path, compressed_tensors_dense_dir: Path, tmp_path: Path
) -> Callable[[str], Path]:
    """The tiny dense Qwen3.5 stored in a storage of the format table: the genuine ModelOpt
    and compressed-tensors NVFP4 exports, every other storage re-stored from the former."""
    genuine = {"modelopt_nvfp4": modelopt_dense_dir, "ct_nvfp4": compressed_tensors_dense_dir}
    ct_config = json.loads((compressed_tensors_dense_dir / "config.json").read_text("utf-8"))
    ignore = ct_config["quantization_config"]["ignore"]  # compressed-tensors' own list

    def make(storage: str) -> Path:
        if storage in genuine:
            return genuine[storage]
        if "linear" not in getattr(FORMATS.get(storage), "kinds", {"linear"}):
            pytest.skip(f"{storage} stores fused expert parameters; the tiny model has none")
        try:
            configure = _configure(storage, ignore)
            return write_variant(
                modelopt_dense_dir, tmp_path / storage, _restore(storage), configure
            )
        except FormatError as error:
            pytest.skip(f"no producer config for {storage}: {error}")

    return make


def _spec_for(base: Path, target: Path, fmt: str, layout: str) -> Path:
    text = base.read_text(encoding="utf-8")
    text = text.replace("format: nvfp4", f"format: {fmt}").replace(
        "export_format: modelopt", f"export_format: {layout}"
    )
    if fmt != "nvfp4":
        text = text.replace("precision: nvfp4", "precision: fp8").replace("NVFP4", "FP8")
    target.write_text(text, encoding="utf-8")
    return target


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "layout"), sorted(STORAGE_BY_SPEC))
def test_rendered_card_for_every_format_agrees_with_a_real_export(
    fmt: str,
    layout: str,
    export_in: Callable[[str], Path],
    modelopt_dense_spec: Path,
    tmp_path: Path,
) -> None:
    from publisher.card.pipeline import render_spec

    storage = STORAGE_BY_SPEC[(fmt, layout)]
    export = export_in(storage)
    spec_path = _spec_for(modelopt_dense_spec, project_with_templates(tmp_path), fmt, layout)
    result = render_spec(spec_path)
    assert result.text is not None, result.findings
    for line in tensor_lines(storage):
        assert line in result.text
    assert "nvfp4-pack-quantized" not in result.text or storage == "ct_nvfp4"
    inventory, _ = read_checkpoint(export)
    truth = truth_from_checkpoint(inventory, str(export))
    assert result.spec is not None
    truth.merge(truth_from_spec(result.spec))
    findings = check_card(
        result.text, file="README.md", facts=facts_from_spec(result.spec), truth=truth
    )
    assert [f for f in findings if f.code >= "CARD300"] == []
    from publisher.checkpoint.validate import validate_checkpoint

    report = validate_checkpoint(result.loaded, export)
    assert [f for f in report.findings if f.severity == "error"] == []


def test_fp8_compressed_tensors_card_no_longer_contradicts_validate(
    modelopt_dense_spec: Path, tmp_path: Path
) -> None:
    from publisher.card.pipeline import render_spec

    spec = _spec_for(
        modelopt_dense_spec, project_with_templates(tmp_path), "fp8", "compressed-tensors"
    )
    text = render_spec(spec).text
    assert text is not None
    assert "nvfp4-pack-quantized" not in text and "F32 scalar" not in text
    assert "compressed-tensors (float-quantized)" in text
    assert "`X.weight_scale` — BF16, shape [1]" in text


def test_a_card_that_misstates_the_stored_format_is_caught(modelopt_dense_dir: Path) -> None:
    inventory, _ = read_checkpoint(modelopt_dense_dir)
    truth = truth_from_checkpoint(inventory, str(modelopt_dense_dir))
    body = (
        "# Tiny-NVFP4\n\n- `X.weight_scale_2` — BF16, shape [1]: the global scale.\n"
        "- `X.weight_global_scale` — F32 scalar: the global scale.\n"
    )
    findings = check(body, truth)
    assert codes(findings) == [("CARD306", 8), ("CARD306", 9)]
    assert "store it as F32 scalar" in findings[0].message


# --- against a checkpoint folder and a Hub repository --------------------------------------

WRONG_TINY = (
    "# Tiny-NVFP4\n\nAn NVFP4 checkpoint of a mixture-of-experts model.\n\n"  # line 8: MoE
    "| | |\n|---|---|\n| Layers | 48 |\n| Hidden size | 64 |\n"  # line 12: 48 layers
    "| Attention heads | 4 for Q, 1 for KV |\n"  # line 14: 1 KV head
)


def test_card_against_a_checkpoint_folder(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "README.md"
    card.write_text(FRONT + WRONG_TINY, encoding="utf-8")
    code = main(
        ["check-card", str(card), "--checkpoint", str(modelopt_dense_dir), "--format", "json"]
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    by_line = {(f["code"], f["location"]["line"]): f["message"] for f in findings}
    assert set(by_line) == {("CARD303", 8), ("CARD301", 12), ("CARD301", 14)}
    assert "config.json text_config.num_hidden_layers says 64" in by_line[("CARD301", 12)]
    assert "config.json text_config.num_key_value_heads says 2" in by_line[("CARD301", 14)]


@pytest.mark.slow
def test_card_against_a_hub_repository(
    hub_api: HfApi,
    hub_repo_id: str,
    modelopt_dense_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    hub: Any,
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_folder(
        repo_id=hub_repo_id,
        folder_path=str(modelopt_dense_dir),
        allow_patterns=["*.json", "*.safetensors"],
    )
    hub_api.upload_file(
        path_or_fileobj=(FRONT + WRONG_TINY).encode(), path_in_repo="README.md", repo_id=hub_repo_id
    )
    hub.requests.clear()
    code = main(["check-card", "--repo", hub_repo_id, "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert {(f["code"], f["location"]["line"]) for f in findings} == {
        ("CARD303", 8),
        ("CARD301", 12),
        ("CARD301", 14),
    }
    assert all(f["location"]["file"] == f"hf://{hub_repo_id}/README.md" for f in findings)
    weights = [
        r
        for r in hub.requests
        if r.path.endswith(".safetensors") and r.method == "GET" and r.range is None
    ]
    assert weights == []  # headers by range requests only
    commit = hub_api.list_repo_commits(hub_repo_id)[1].commit_id  # the weights, no README yet
    code = main(["check-card", str(tmp_path / "none.md"), "--repo", f"{hub_repo_id}@{commit}"])
    assert code == 2  # no such card file
    assert main(["check-card", "--repo", f"{hub_repo_id}@{commit}"]) == 2  # that commit: no README
    assert "has no README.md" in capsys.readouterr().err
    assert main(["check-card", "--repo", "tester/no-such-repo"]) == 3  # the Hub says 404


def test_check_card_needs_a_card_or_a_repo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-card"]) == 2
    assert "--repo" in capsys.readouterr().err


def test_sizes_and_compression_against_the_checkpoint(
    modelopt_dense_dir: Path, modelopt_dense_spec: Path, tmp_path: Path
) -> None:
    from publisher.card.pipeline import checkpoint_facts, render_spec

    inventory, _ = read_checkpoint(modelopt_dense_dir)
    truth = truth_from_checkpoint(inventory, str(modelopt_dense_dir))
    spec = project_with_templates(tmp_path)
    spec.write_text(modelopt_dense_spec.read_text(encoding="utf-8"), encoding="utf-8")
    rendered = render_spec(spec, checkpoint_facts(modelopt_dense_dir)).text
    assert rendered is not None and "smaller" in rendered  # the card states the measured ratio
    assert [f for f in check_card(rendered, truth=truth) if f.code == "CARD305"] == []
    stored = truth.first("checkpoint_bytes")
    assert stored is not None
    body = (
        "# Tiny-NVFP4\n\nThe weights are ~4x smaller than BF16.\n\n"
        f"| | |\n|---|---|\n| Checkpoint size | {stored.value * 3 / 1e9:.3f} GB |\n"
    )
    findings = check(body, truth)
    assert codes(findings) == [("CARD305", 8), ("CARD305", 12)]
    assert "the safetensors headers of" in findings[1].message


def test_reference_cards_against_their_specs(shared_dir: Path) -> None:
    """The published cards, checked against the specs made from the same public facts: the
    0.8B card praises a sparse Mixture-of-Experts it does not have, the 27B card lists the
    vision linears it says stayed BF16 as quantized; nothing else is wrong with the
    architecture the cards state."""
    from publisher.card.check import check_card_file

    pairs = {
        "qwen3.5-27b-nvfp4.md": "Qwen3.5-27B-NVFP4",
        "qwen3.5-35b-a3b-nvfp4.md": "Qwen3.5-35B-A3B-NVFP4",
        "qwen3.5-0.8b.md": "Qwen3.5-0.8B",
        "qwen3.5-2b-overview.md": "Qwen3.5-2B",
    }
    found = {}
    for card, spec in pairs.items():
        loaded = load_spec(REPO / "model_specs" / f"{spec}.yaml").spec
        assert loaded is not None
        findings = check_card_file(
            shared_dir / "reference-cards" / card, truth=truth_from_spec(loaded)
        )
        found[card] = [(f.code, f.location.line) for f in findings if f.code >= "CARD300"]
    assert found == {
        "qwen3.5-27b-nvfp4.md": [("CARD308", 37)],  # vision linears: quantized, or BF16?
        "qwen3.5-35b-a3b-nvfp4.md": [],
        "qwen3.5-0.8b.md": [("CARD303", 19)],
        "qwen3.5-2b-overview.md": [],
    }


def test_component_rows_against_how_the_checkpoint_stores_them(modelopt_dense_dir: Path) -> None:
    inventory, _ = read_checkpoint(modelopt_dense_dir)
    truth = truth_from_checkpoint(inventory, str(modelopt_dense_dir))
    body = (
        "# Tiny-NVFP4\n\n### Quantized to NVFP4\n\n| Component | Count |\n|---|---|\n"
        "| MLP projections | 192 |\n| LM head | 1 |\n\n### Kept in BF16\n\n"
        "| Component | Count |\n|---|---|\n| Full-attention projections | 64 |\n"
        "| DeltaNet conv1d | 48 |\n"
    )
    findings = check(body, truth)
    assert codes(findings) == [("CARD308", 13), ("CARD308", 19)]
    assert "the headers: 1 lm_head weights in BF16" in findings[0].message
    assert "weights quantized" in findings[1].message


_PIECES = st.sampled_from(
    [
        "\n", "| ", " |", "|---|---|\n", "| | |\n", "<table>", "<tr>", "<td>", "</td>", "</tr>",
        "- **Layers**: ", "Hidden size: ", "24", "4,096", "128K", "1M", "8 for Q, 2 for KV",
        "Q / KV heads", "8 / 2", "6 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))",
        "((((", "))", "sparse Mixture-of-Experts", "dense model", "quantized to FP8", "~4x smaller",
        "12 GB checkpoint", "`X.weight_scale` — F32 scalar", "| Component | Count |\n",
        "| Norms | 3 |\n", "| linear_attn | 9 |\n", "### Quantized to NVFP4\n", "Kept in BF16\n",
        "  - Gated DeltaNet:\n", "    - Head dimension: ", "Qwen3.5-35B-A3B", "9" * 30,
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=40).map("".join))
def test_claim_checks_never_raise(text: str) -> None:
    from publisher.card.check import CODES

    for finding in check_card(text, truth=_TRUTH):
        assert finding.code in CODES


_TRUTH = spec_truth(REPO / "model_specs" / "Qwen3.5-35B-A3B-NVFP4.yaml")


LLAMA_LIKE = {
    "name": "llama_like",
    "title": "a plain decoder (test profile)",
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "ffn": "dense",
    "mixers": {
        "attention": {"layer_type": "full_attention", "aliases": ["Attention"], "label": "Attention"}
    },
    "ffn_aliases": {"dense": ["MLP"]},
    "components": [
        {"id": "attention_proj", "label": "Attention projections", "members": [
            {"scope": "layer", "path": f"model.layers.{{L}}.self_attn.{p}", "kind": "linear"}
            for p in ("q_proj", "k_proj", "v_proj", "o_proj")
        ]},
        {"id": "mlp", "label": "MLP projections", "members": [
            {"scope": "layer", "path": f"model.layers.{{L}}.mlp.{p}", "kind": "linear"}
            for p in ("gate_proj", "up_proj", "down_proj")
        ]},
        {"id": "norms", "label": "Norms", "members": [
            {"scope": "layer", "path": "model.layers.{L}.input_layernorm", "kind": "norm"},
            {"scope": "layer", "path": "model.layers.{L}.post_attention_layernorm", "kind": "norm"},
            {"scope": "global", "path": "model.norm", "kind": "norm"},
        ]},
        {"id": "lm_head", "label": "LM head", "members": [
            {"scope": "global", "path": "lm_head", "kind": "linear"}
        ]},
    ],
}  # fmt: skip


def test_component_rows_resolve_through_any_profile() -> None:
    """Only profile data is read: a plain decoder's rows map to its own module paths."""
    from publisher.card.rules_components import resolve
    from publisher.spec.profile import Profile

    profile = Profile.model_validate(LLAMA_LIKE)
    assert resolve("Attention projections", profile) == {
        f"model.layers.{{L}}.self_attn.{p}" for p in ("q_proj", "k_proj", "v_proj", "o_proj")
    }
    layer_norms = resolve("input_layernorm", profile)
    assert layer_norms == {"model.layers.{L}.input_layernorm"}
    assert layer_norms is not None and layer_norms < (resolve("RMSNorm weights", profile) or set())
    assert resolve("self_attn", profile) == resolve("Attention projections", profile)
    assert resolve("lm_head", profile) == {"lm_head"}
    assert resolve("Other", profile) is None


IDIOMS = """---
license: apache-2.0
pipeline_tag: image-text-to-text
library_name: transformers
---

<div align="center"><img src="https://example.org/logo.png" width="200"></div>

# 🌟 Qwen3.5-2B

[![License](https://img.shields.io/badge/license-apache--2.0-blue)](LICENSE) [![Params](https://img.shields.io/badge/params-2B-green)](#)

## 📐 Specs

| | |
|---|---|
| Layers | 24 |
| Hidden size | 2,048 |

<details>
<summary><b>More</b></summary>

<table>
<tr>
<th>
Property
</th>
<th>
Value
</th>
</tr>
<tr><td>Context</td><td>262,144 tokens</td></tr>
</table>

</details>
"""


@pytest.mark.parametrize("with_spec", [False, True])
def test_common_card_idioms_raise_nothing(with_spec: bool) -> None:
    """Badges, emoji headings, <details>, HTML tables with headers split over lines, and a
    key/value table whose header row is empty: all render fine on the Hub."""
    assert check_card(IDIOMS, file="README.md", truth=spec_truth() if with_spec else None) == []


def test_sentences_about_what_was_quantized() -> None:
    truth = spec_truth(REPO / "model_specs" / "Qwen3.5-27B-NVFP4.yaml")
    body = (
        "# Qwen3.5-27B-NVFP4\n\nThe vision encoder is quantized to NVFP4 as well.\n"
        "The MLP projections are kept in BF16. lm_head stays in BF16.\n"
        "All linear layers are quantized; the rest stays in BF16.\n"
    )
    findings = check(body, truth)
    assert codes(findings) == [("CARD308", 8), ("CARD308", 9)]
    assert "spec quantization.components[9] (vision: bf16)" in findings[0].message
    assert "(mlp: nvfp4) says quantized" in findings[1].message


@pytest.mark.slow
@pytest.mark.parametrize("family", ["llama", "deepseek_v3"])
def test_a_rendered_card_of_another_family_against_its_genuine_export(
    family: str, synth_cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """init → render → check-card --spec --checkpoint is clean on a genuine export of the
    family; a wrong layer count is named with config.json's key."""
    pytest.importorskip("modelopt")
    from publisher.testkit.families import cached_family_export

    export = cached_family_export(family, synth_cache_dir)  # type: ignore[arg-type]
    spec = project_with_templates(tmp_path)
    assert main(["init", str(export), "-o", str(spec), "--name", f"Tiny-{family}-NVFP4"]) == 0
    card = tmp_path / "README.md"
    assert main(["render", str(spec), "-o", str(card), "--checkpoint", str(export)]) == 0
    capsys.readouterr()
    args = ["check-card", str(card), "--spec", str(spec), "--checkpoint", str(export)]
    assert main([*args, "--format", "json"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    text = card.read_text(encoding="utf-8")
    layers = re.search(r"^\| Layers \| (\d+) \|$", text, re.M)
    assert layers is not None
    card.write_text(text.replace(layers[0], f"| Layers | {int(layers[1]) + 8} |"), encoding="utf-8")
    assert main(["check-card", str(card), "--checkpoint", str(export), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["code"] for f in findings] == ["CARD301"]
    assert "config.json" in findings[0]["message"] and "num_hidden_layers" in findings[0]["message"]


GOLDEN = sorted((REPO / "tests" / "golden").glob("*.md"))


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.stem for g in GOLDEN])
def test_every_golden_card_agrees_with_its_spec(golden: Path) -> None:
    """publisher's own cards, every family: every claim checked against the spec they come
    from, no finding."""
    spec_path = REPO / "model_specs" / f"{golden.stem}.yaml"
    if not spec_path.exists():
        pytest.skip(f"no spec named {spec_path.name}")
    spec = load_spec(spec_path).spec
    assert spec is not None
    text = golden.read_text(encoding="utf-8")
    assert (
        check_card(text, file=golden.name, facts=facts_from_spec(spec), truth=truth_from_spec(spec))
        == []
    )
