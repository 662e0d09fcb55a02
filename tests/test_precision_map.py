"""The auditor's view: the precision map (SVG) and the HTML report, drawn from the audit alone.

Checkpoints: full-size sparse headers of the 27B (64 layers, 3:1 DeltaNet/attention) and the
35B-A3B (256 experts per layer, 124,576 tensors), and variants of the genuine tiny ModelOpt
exports (mixed NVFP4/FP8, experts that differ, an MTP head), each written afresh.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from publisher.auditview import build_map, draw_svg
from publisher.auditview.report import audit_page
from publisher.checkpoint.audit import AuditResult, audit_inventory, compare
from publisher.checkpoint.formats import TensorSpec, expected_tensors
from publisher.checkpoint.integrity import check_checkpoint
from publisher.cli import main
from tests import hub_fixtures
from tests.checkpoint_variants import to_fp8, write_mixed_variant, write_variant

pytestmark = pytest.mark.slow

LM = "model.language_model.layers"
local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api
hub_repo_id = hub_fixtures.hub_repo_id


def _audit(folder: Path) -> AuditResult:
    inventory, _ = check_checkpoint(folder)
    return audit_inventory(inventory)


@pytest.fixture(scope="module")
def sparse_27b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from publisher.testkit.sparse import write_sparse_checkpoint
    from publisher.testkit.tiny import qwen35_27b_config

    folder = tmp_path_factory.mktemp("27b")
    write_sparse_checkpoint(folder, qwen35_27b_config(), "modelopt-default", "modelopt_nvfp4")
    return folder


@pytest.fixture(scope="module")
def sparse_35b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from publisher.testkit.sparse import write_sparse_checkpoint
    from publisher.testkit.tiny import qwen35_35b_a3b_config

    folder = tmp_path_factory.mktemp("35b")
    write_sparse_checkpoint(folder, qwen35_35b_a3b_config(), "modelopt-default", "modelopt_nvfp4")
    return folder


def _titles(svg: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", svg)


def test_the_27b_map_shows_64_layers_three_deltanet_to_one_attention(sparse_27b: Path) -> None:
    result = _audit(sparse_27b)
    view = build_map(result, title="Qwen3.5-27B-NVFP4")
    assert view.layers == list(range(64))
    mixers = [view.layer_kinds[layer][0] for layer in view.layers]
    assert mixers == ["Gated DeltaNet", "Gated DeltaNet", "Gated DeltaNet", "Gated Attention"] * 16
    svg = draw_svg(view)
    titles = _titles(svg)
    assert (
        "Layer 3 (Gated Attention, dense) · Full-attention projections: 4 modules, all NVFP4"
        in titles
    )
    assert "Layer 2 (Gated DeltaNet, dense) · Full-attention projections: absent" in titles
    assert (
        "Layer 0 (Gated DeltaNet, dense) · DeltaNet projections: 5 modules: 3 NVFP4, 2 BF16"
        in titles
    )
    assert "Layer 63 (Gated Attention, dense) · MLP projections: 3 modules, all NVFP4" in titles
    # the vision encoder apart, summarised over its 27 blocks; the globals apart too
    assert (
        "model.visual.* (27 blocks) · Vision encoder linears: 27 blocks (110 modules), all BF16"
        in titles
    )
    assert "Outside the layers · LM head: 1 module, all BF16" in titles
    # one cell group per layer × component, each with its accessible name
    assert svg.count('<g role="img">') == 64 * len(view.rows)
    assert "BF16 " in svg and "NVFP4 " in svg  # legend with counts
    # the same audit draws the same bytes; a fresh audit of the same files too
    assert draw_svg(build_map(_audit(sparse_27b), title="Qwen3.5-27B-NVFP4")) == svg
    assert svg.startswith("<svg ") and 'width="820"' in svg  # the Hub's card column


def test_the_35b_map_summarises_256_experts_per_layer_under_200_kb(sparse_35b: Path) -> None:
    inventory, _ = check_checkpoint(sparse_35b)
    assert inventory.tensor_count == 124_576
    result = audit_inventory(inventory)
    svg = draw_svg(build_map(result, title="Qwen3.5-35B-A3B-NVFP4"))
    titles = _titles(svg)
    assert (
        "Layer 0 (Gated DeltaNet, MoE) · Routed experts: 256 experts (768 modules), all NVFP4"
        in titles
    )
    assert "Layer 39 (Gated Attention, MoE) · Router: 1 module, all BF16" in titles
    assert "experts.17" not in svg  # summarised, never drawn expert by expert
    assert ">Routed experts ×256</text>" in svg
    assert len(svg.encode()) < 200_000
    assert len(result.layer_kinds) == 40


def test_experts_that_differ_are_drawn_in_their_order(
    modelopt_moe_dir: Path, tmp_path: Path
) -> None:
    def expert_2_of_layer_1_to_fp8(tensors: dict[str, TensorSpec]) -> None:
        for proj in ("gate_proj", "up_proj", "down_proj"):
            to_fp8(tensors, f"{LM}.1.mlp.experts.2.{proj}")

    variant = write_variant(modelopt_moe_dir, tmp_path / "moe", expert_2_of_layer_1_to_fp8)
    view = build_map(_audit(variant))
    cell = view.cells[("experts", 1)]
    assert cell.counts == {"nvfp4": 9, "fp8": 3}
    assert cell.runs == [("nvfp4", 6), ("fp8", 3), ("nvfp4", 3)]  # experts 0, 1 | 2 | 3
    assert view.cell_title("experts", 1).endswith("4 experts (12 modules): 9 NVFP4, 3 FP8")
    assert view.cells[("experts", 0)].uniform == "nvfp4"


def test_a_mixed_nvfp4_fp8_export_colours_each_format(
    modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    view = build_map(_audit(variant))
    assert view.totals["fp8"] == 64 and view.totals["nvfp4"] == 336
    svg = draw_svg(view)
    assert ".p-fp8{fill:" in svg and ".p-nvfp4{fill:" in svg
    titles = _titles(svg)
    assert (
        "Layer 7 (Gated Attention, dense) · Full-attention projections: 4 modules, all FP8"
        in titles
    )
    assert "Layer 7 (Gated Attention, dense) · MLP projections: 3 modules, all NVFP4" in titles
    assert "FP8 64" in svg  # the legend counts


def test_against_outlines_the_cells_that_changed(modelopt_dense_dir: Path, tmp_path: Path) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    before, after = _audit(modelopt_dense_dir), _audit(variant)
    changes = compare(before, after)
    assert len(changes) == 64
    view = build_map(before, changes=changes, against="mixed")
    changed = {key for key, cell in view.cells.items() if cell.changed}
    assert changed == {("attention_proj", layer) for layer in range(3, 64, 4)}
    assert view.cell_title("attention_proj", 3).endswith(
        "4 modules, all NVFP4; changed: 4 NVFP4 → FP8"
    )
    svg = draw_svg(view)
    assert svg.count('class="chg"/>') == 16 + 1  # the cells, and the legend's swatch
    page = audit_page(before, changes, "mixed")
    assert "Precision changes against mixed: 64" in page


def test_the_mtp_head_is_shown_apart(modelopt_dense_dir: Path, tmp_path: Path) -> None:
    def add_mtp(tensors: dict[str, TensorSpec]) -> None:
        for name, kind, shape in (
            ("mtp.fc", "linear", (64, 128)),
            ("mtp.layers.0.mlp.gate_proj", "linear", (128, 64)),
        ):
            for spec in expected_tensors(name, kind, shape, False, "modelopt_nvfp4"):
                tensors[spec.name] = spec

    variant = write_variant(modelopt_dense_dir, tmp_path / "mtp", add_mtp)
    result = _audit(variant)
    assert result.mtp_modules == {"mtp.fc": "nvfp4", "mtp.layers.0.mlp.gate_proj": "nvfp4"}
    view = build_map(result)
    assert view.layers == list(range(64))  # the MTP layer is not a text layer
    panel = view.panels[-1]
    assert panel.title == "MTP, next-token prediction (1 layer)"
    assert [(bar.label, bar.cell.describe()) for bar in panel.bars] == [
        ("fc", "1 module, all NVFP4"),
        ("mlp.gate_proj", "1 module, all NVFP4"),
    ]


def test_audit_writes_a_self_contained_html_report_and_the_svg(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.html"
    assert main(["audit", str(modelopt_dense_dir), "--format", "html", "-o", str(report)]) == 0
    assert f"wrote {report}" in capsys.readouterr().out
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]
    for section in (
        "Precision map",
        "Components",
        "Tensors by dtype",
        "Parameters, counted two ways",
    ):
        assert section in page
    assert "2,839,200" in page and "1,693,120" in page  # logical and stored
    assert 'id="as-table"' in page and "<td>3 (Gated Attention, dense)</td>" in page
    svg = tmp_path / "precision_map.svg"
    assert main(["audit", str(modelopt_dense_dir), "--format", "svg", "-o", str(svg)]) == 0
    assert svg.read_text(encoding="utf-8").startswith("<svg ")


def test_audit_output_into_a_folder_is_refused(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(modelopt_dense_dir), "--format", "html", "-o", str(tmp_path)]) == 2
    assert "give a file name such as report.html" in capsys.readouterr().err


def test_the_html_report_in_headless_chromium(
    modelopt_dense_dir: Path, repo_root: Path, tmp_path: Path
) -> None:
    from tests.chromium import Browser

    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    report = tmp_path / "report.html"
    assert (
        main(
            [
                "audit",
                str(variant),
                "--against",
                str(modelopt_dense_dir),
                "--format",
                "html",
                "-o",
                str(report),
            ]
        )
        == 0
    )
    screenshot = tmp_path / "report.png"
    with Browser(tmp_path / "profile", width=1000, height=900) as browser:
        browser.open(report.as_uri())
        bf16 = browser.by_accessible_name(
            "Layer 0 (Gated DeltaNet, dense) · DeltaNet conv1d: 1 module, all BF16"
        )
        nvfp4 = browser.by_accessible_name(
            "Layer 3 (Gated Attention, dense) · MLP projections: 3 modules, all NVFP4"
        )
        fp8 = browser.by_accessible_name(
            "Layer 3 (Gated Attention, dense) · Full-attention projections: 4 modules, all FP8;"
            " changed: 4 FP8 → NVFP4"
        )
        missing = browser.by_accessible_name("Layer 3 · MLP projections: 3 modules, all BF16")
        width = browser.evaluate(
            "document.querySelector('#precision-map svg').getBoundingClientRect().width"
        )
        browser.screenshot(screenshot)
    assert [n["role"]["value"] for n in bf16 + nvfp4 + fp8] == ["image"] * 3
    assert missing == []
    assert 800 <= width <= 820
    assert screenshot.stat().st_size > 20_000
    artifacts = repo_root / ".cache" / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "audit-report-mixed.png").write_bytes(screenshot.read_bytes())


def test_preview_serves_the_map_beside_the_card(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, repo_root: Path, tmp_path: Path
) -> None:
    import urllib.request

    from publisher.card.preview import PreviewServer
    from tests.chromium import Browser

    server = PreviewServer(modelopt_dense_spec, port=0, checkpoint=modelopt_dense_dir)
    server.start()
    try:
        with urllib.request.urlopen(server.url, timeout=30) as response:
            page = response.read().decode()
        with urllib.request.urlopen(server.url + "precision_map.svg", timeout=30) as response:
            assert response.headers["Content-Type"] == "image/svg+xml"
            svg = response.read().decode()
        screenshot = tmp_path / "preview.png"
        with Browser(tmp_path / "profile", width=1400, height=1000) as browser:
            browser.open(server.url)
            cell = browser.by_accessible_name(
                "Layer 3 (Gated Attention, dense) · MLP projections: 3 modules, all NVFP4"
            )
            loaded = browser.evaluate(
                "[...document.querySelectorAll('#card img')].map(i => i.naturalWidth)"
            )
            browser.screenshot(screenshot, full_page=False)
    finally:
        server.stop()
    assert "<section id='precision-map'><h2>Precision map</h2><svg " in page
    assert '<img src="precision_map.svg" alt="Precision map of ' in page  # as push publishes it
    assert svg.startswith("<svg ") and "Layer 3 (Gated Attention, dense)" in svg
    assert [n["role"]["value"] for n in cell] == ["image"]
    assert loaded == [820]  # the card's relative link resolves
    artifacts = repo_root / ".cache" / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "preview-with-map.png").write_bytes(screenshot.read_bytes())


def test_preview_checkpoint_needs_serve(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", str(modelopt_dense_spec), "--checkpoint", str(modelopt_dense_dir)]) == 2
    assert "add --serve" in capsys.readouterr().err


def test_the_card_embeds_a_published_map_by_a_relative_link(modelopt_dense_spec: Path) -> None:
    from publisher.card.check import check_card
    from publisher.card.facts import CheckpointFacts
    from publisher.card.pipeline import render_spec

    alt = "Precision map of Tiny-NVFP4: 64 layers × 7 per-layer components"
    facts = CheckpointFacts(2_200_000, 1, ("precision_map.svg", alt))
    card = render_spec(modelopt_dense_spec, facts).text
    assert card is not None
    assert f"### Precision map\n\n![{alt}](precision_map.svg)\n" in card
    assert check_card(card, file="README.md") == check_card(
        render_spec(modelopt_dense_spec, CheckpointFacts(2_200_000, 1)).text or "", file="README.md"
    )  # the embedded map adds no finding
    plain = render_spec(modelopt_dense_spec).text or ""
    assert "precision_map.svg" not in plain and "### Precision map" not in plain


def test_a_family_without_a_profile_still_draws(modelopt_moe_dir: Path, tmp_path: Path) -> None:
    def unknown_family(configs: dict[str, dict[str, object]]) -> None:
        configs["config.json"]["model_type"] = "a_family_publisher_does_not_know"
        configs["config.json"].pop("architectures", None)

    variant = write_variant(modelopt_moe_dir, tmp_path / "unknown", edit_configs=unknown_family)
    result = _audit(variant)
    assert result.profile is None and result.layer_kinds == {}
    view = build_map(result)
    labels = [label for _, label in view.rows]
    assert "mlp.experts.*.gate_proj" in labels and "self_attn.q_proj" in labels
    assert view.cell_title("model.language_model.layers.*.mlp.experts.*.gate_proj", 0) == (
        "Layer 0 · mlp.experts.*.gate_proj: 4 experts (4 modules), all NVFP4"
    )
    svg = draw_svg(view)
    assert ">mixer<" not in svg  # no layer kinds without a profile: no strips claimed


def test_hostile_module_names_stay_text(modelopt_dense_dir: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    hostile = [
        f"{LM}.0.mlp.<script>alert(1)</script>",
        f"{LM}.1.mlp.\x1b[31m\ufffe\x7f",
        "model.visual.blocks.0.\"&'<x>",
    ]

    def add(tensors: dict[str, TensorSpec]) -> None:
        for name in hostile:
            tensors[f"{name}.weight"] = TensorSpec(f"{name}.weight", "BF16", (4, 4))

    variant = write_variant(modelopt_dense_dir, tmp_path / "hostile", add)
    result = _audit(variant)
    assert sum(1 for n in result.modules if n.startswith(tuple(hostile))) == 3
    svg = draw_svg(build_map(result, title="<t>"))
    ET.fromstring(svg.encode())  # well-formed XML, encodable as UTF-8
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    page = audit_page(result, title="<t>")
    assert "<script" not in page and "\x1b" not in page
    page.encode()


# ---- published beside the weights ---------------------------------------------------------


def test_push_publishes_the_map_and_the_card_embeds_it(
    hub: object, hub_api: object, hub_repo_id: str, modelopt_dense_spec: Path,
    modelopt_dense_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from huggingface_hub import HfApi

    from publisher.localhub.server import DEMO_TOKEN
    from tests.checkpoint_variants import with_tester_repo

    assert isinstance(hub_api, HfApi)
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    repo_id = hub_repo_id.rstrip("-")
    spec = with_tester_repo(modelopt_dense_spec, tmp_path / "Tiny-NVFP4.yaml")
    argv = ["push", str(spec), str(modelopt_dense_dir), "--repo", repo_id, "--precision-map"]
    assert main(argv) == 0, capsys.readouterr().out
    files = set(hub_api.list_repo_files(repo_id))
    assert {"precision_map.svg", "README.md", "quantization_audit.json"} <= files
    svg = Path(hub_api.hf_hub_download(repo_id, "precision_map.svg", cache_dir=tmp_path / "c"))
    assert (
        svg.read_bytes()
        == draw_svg(build_map(_audit(modelopt_dense_dir), title=spec.stem)).encode()
    )
    card = Path(hub_api.hf_hub_download(repo_id, "README.md", cache_dir=tmp_path / "c")).read_text()
    assert "![Precision map of Tiny-NVFP4: 64 layers × 7 per-layer components" in card
    assert "](precision_map.svg)" in card
    capsys.readouterr()
    assert main(argv) == 0  # the same bytes again: nothing to send
    assert "up to date" in capsys.readouterr().out
    # without a checkpoint the map is drawn from the weights on the Hub: the same bytes
    assert main(["push", str(spec), "--precision-map", "--repo", repo_id]) == 0
    assert "up to date" in capsys.readouterr().out
    # a repository without weights has nothing to draw
    empty = f"{repo_id}-empty"
    assert main(["push", str(spec), "--precision-map", "--repo", empty]) == 2
    assert f"give CHECKPOINT, or push the weights to {empty} first" in capsys.readouterr().err


def test_the_library_draws_what_the_command_writes(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import publisher.api as pub

    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    result, other = pub.audit(modelopt_dense_dir), pub.audit(variant)
    svg = pub.precision_map(result, title="tiny", against=other, against_name="mixed")
    assert svg.count('class="chg"/>') == 16 + 1
    out = tmp_path / "map.svg"
    argv = ["audit", str(modelopt_dense_dir), "--against", str(variant), "--format", "svg"]
    assert main([*argv, "-o", str(out)]) == 0
    written = out.read_text(encoding="utf-8")
    assert written.count('class="chg"/>') == 16 + 1
    assert pub.format_audit_page(result, title="tiny").startswith("<!doctype html>")


def test_the_same_files_draw_the_same_bytes_in_any_process(
    modelopt_moe_dir: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    drawn = []
    for seed in ("1", "2"):  # set and dict orders that depend on string hashing would differ
        out = tmp_path / f"map-{seed}.svg"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        code = "from publisher.cli import entry; entry()"
        argv = [sys.executable, "-c", code, "audit", str(modelopt_moe_dir), "--format", "svg"]
        subprocess.run([*argv, "-o", str(out)], env=env, check=True, capture_output=True)
        drawn.append(out.read_bytes())
    assert drawn[0] == drawn[1] and drawn[0].startswith(b"<svg ")


def test_another_family_draws_from_its_profile_dense_and_moe_layers_apart(tmp_path: Path) -> None:
    """DeepSeek-V3's layout (3 dense layers, then MoE): names from transformers' own model on
    the meta device, the MLP linears written NVFP4, the rest BF16."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, DeepseekV3Config

    from publisher.testkit.sparse import write_sparse_shard

    config = DeepseekV3Config(
        num_hidden_layers=6, first_k_dense_replace=3, n_routed_experts=8, num_experts_per_tok=2,
        hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_attention_heads=4,
        num_key_value_heads=4, q_lora_rank=32, kv_lora_rank=16, qk_rope_head_dim=8,
        qk_nope_head_dim=8, v_head_dim=8, vocab_size=256, n_group=2, topk_group=1,
    )  # fmt: skip
    config.architectures = ["DeepseekV3ForCausalLM"]
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    tensors: dict[str, TensorSpec] = {}
    for name, module in model.named_modules():
        mlp_linear = ".mlp." in name and name.endswith("_proj")
        if isinstance(module, torch.nn.Linear) and mlp_linear:
            shape = tuple(module.weight.shape)
            for spec in expected_tensors(name, "linear", shape, False, "modelopt_nvfp4"):
                tensors[spec.name] = spec
    for name, param in model.state_dict().items():
        if f"{name.rpartition('.')[0]}.weight_scale" not in tensors:
            tensors[name] = TensorSpec(name, "BF16", tuple(param.shape))
    config.num_nextn_predict_layers = 1  # its MTP layer is written as layer 6, after the last
    for spec in [t for t in tensors.values() if t.name.startswith("model.layers.5.")]:
        name = spec.name.replace("model.layers.5.", "model.layers.6.", 1)
        tensors[name] = TensorSpec(name, spec.dtype, spec.shape)
    folder = tmp_path / "deepseek"
    folder.mkdir()
    write_sparse_shard(folder / "model.safetensors", tensors.values())
    (folder / "config.json").write_text(config.to_json_string(), encoding="utf-8")

    result = _audit(folder)
    assert result.profile == "deepseek_v3"
    view = build_map(result)
    assert [view.layer_kinds[i][1] for i in range(6)] == ["dense"] * 3 + ["MoE"] * 3
    svg = draw_svg(view)
    assert ">dense</text>" in svg and ">MoE</text>" in svg  # the strip's legend
    dense = next(c for c, label in view.rows if label.startswith("Dense MLP"))
    assert view.cell_title(dense, 0).endswith("3 modules, all NVFP4")
    assert view.cell_title(dense, 4).endswith("absent")
    assert view.layers == list(range(6))  # the MTP layer is apart, not a seventh column
    assert view.panels[-1].title == "MTP, next-token prediction (1 layer)"
