"""Counts derived from the architecture: the published 27B table, reproduced from the spec."""

from __future__ import annotations

from pathlib import Path

from publisher.spec.lint import derive_inventory
from publisher.spec.loader import load_spec


def test_27b_component_counts_follow_from_the_architecture(repo_root: Path) -> None:
    spec = load_spec(repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml").spec
    assert spec is not None
    profile, inventory = derive_inventory(spec)

    def count(component: str, modules: list[str] | None = None) -> int:
        unit = profile.component(component).unit  # type: ignore[union-attr]
        return inventory.count(component, modules, unit)

    assert count("mlp") == 192
    assert count("deltanet_proj") == 240
    assert count("attention_proj") == 64
    assert count("vision_linear") == 110
    assert count("lm_head") == 1
    assert count("embed_tokens") == 1
    assert count("deltanet_conv1d") == count("deltanet_a_log") == count("deltanet_dt_bias") == 48
    assert count("text_norms") == 209
    assert count("vision") == 333
    # ModelOpt 0.47's default keeps in_proj_a / in_proj_b in BF16: 144 quantized, not 240
    assert count("deltanet_proj", ["in_proj_qkv", "in_proj_z", "out_proj"]) == 144
    assert inventory.formulas["mlp"] == "64 layers × 3"


def test_35b_moe_expert_count(repo_root: Path) -> None:
    spec = load_spec(repo_root / "model_specs" / "Qwen3.5-35B-A3B-NVFP4.yaml").spec
    assert spec is not None
    _, inventory = derive_inventory(spec)
    assert inventory.count("experts") == 40 * 256 * 3
    assert inventory.formulas["experts"] == "40 layers × 256 experts × 3"


def test_27b_card_as_published_is_flagged_as_a_double_count(
    repo_root: Path, tmp_path: Path
) -> None:
    """The published card lists 110 vision linears as quantized and all 333 vision tensors as BF16."""
    original = (repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml").read_text(encoding="utf-8")
    as_published = original.replace(
        "  quantized_total: 496\n  components:\n",
        "  quantized_total: 606\n  components:\n"
        "    - component: vision_linear\n      precision: nvfp4\n      count: 110\n",
    )
    families = tmp_path / "families"  # `extends` stays inside the spec's repository
    families.mkdir()
    for family in (repo_root / "model_specs" / "families").glob("*.yaml"):
        (families / family.name).write_text(family.read_text(encoding="utf-8"))
    spec_path = tmp_path / "as-published.yaml"
    spec_path.write_text(as_published, encoding="utf-8")
    from publisher.spec.lint import lint_path

    codes = {f.code for f in lint_path(spec_path).findings}
    assert "SPEC031" in codes
    assert "SPEC034" not in codes  # 606 = 192 + 240 + 64 + 110 adds up; the overlap is the defect
