"""config.json against the spec: transformers (and torch, seconds of start-up and hundreds of
megabytes) is imported only when config.json leaves out a key the check needs; which keys those
are is profile data (`layout_keys` among them), checked here against transformers itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.checkpoint.config_check import check_config_json, needed_keys, resolved_config
from publisher.spec.loader import load_spec
from publisher.spec.profile import available_profiles, load_profile
from publisher.spec.profile_check import layout_keys_from_transformers
from publisher.testkit.full_size import published_config

KIMI_SPEC = "model_specs/Kimi-K2-Instruct-NVFP4.yaml"


def _kimi(repo_root: Path) -> tuple[object, dict[str, object]]:
    spec = load_spec(repo_root / KIMI_SPEC).spec
    assert spec is not None
    return spec, published_config("kimi_k2")


def test_a_config_stating_every_needed_key_is_checked_without_transformers(
    repo_root: Path,
) -> None:
    # The published Kimi-K2 config.json has no head_dim and no layer_types (MLA, one kind of
    # layer): the check needs neither, so it must not ask transformers for defaults.
    code = (
        "import json, sys\n"
        "from publisher.checkpoint.config_check import check_config_json\n"
        "from pathlib import Path\n"
        "from publisher.spec.loader import load_spec\n"
        "from publisher.testkit.full_size import published_config\n"
        f"spec = load_spec(Path({str(repo_root / KIMI_SPEC)!r})).spec\n"
        "found = check_config_json(spec, published_config('kimi_k2'), '.')\n"
        "print(json.dumps([len(found), 'torch' in sys.modules, 'transformers' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root
    )
    assert json.loads(out.stdout.splitlines()[-1]) == [0, False, False]


def test_the_needed_keys_come_from_the_profile(repo_root: Path) -> None:
    spec, config = _kimi(repo_root)
    profile = load_profile("deepseek_v3")
    keys = needed_keys(spec, profile)  # type: ignore[arg-type]
    assert "first_k_dense_replace" in keys  # layout_keys
    assert ["n_routed_experts", "num_experts"] in keys and "q_lora_rank" in keys
    assert "head_dim" not in keys  # the profile derives it (qk_rope_head_dim)
    assert "layer_types" not in keys  # one kind of layer
    qwen3_moe = load_profile("qwen3_moe")  # a hybrid profile whose family computes no kinds
    assert len(qwen3_moe.mixers) > 1 and qwen3_moe.layout_keys == []
    assert resolved_config(config, keys) is config


def test_a_left_out_layout_key_takes_transformers_default(repo_root: Path) -> None:
    """DeepSeek-V3's first_k_dense_replace defaults to 3 in transformers. Kimi-K2 states 1; a
    config.json that leaves the key out means 3 dense layers, which the spec (1) contradicts:
    assuming 'no dense layers' instead would find a different layer, or nothing."""
    pytest.importorskip("transformers")
    spec, config = _kimi(repo_root)
    config = {k: v for k, v in config.items() if k != "first_k_dense_replace"}
    found = check_config_json(spec, config, "ckpt")  # type: ignore[arg-type]
    assert [(f.code, f.location.pointer) for f in found] == [("VAL020", "layer 1")]
    assert "makes layer 1 MLA → FFN but the layout makes it MLA → MoE" in found[0].message


@pytest.mark.parametrize("name", available_profiles())
def test_layout_keys_are_the_layer_keys_transformers_defaults_otherwise(name: str) -> None:
    """A profile lists every per-layer FFN key whose transformers default is not what its
    absence means to the check (first_k_dense_replace 0, no mlp_only_layers, step 1), and a
    hybrid's layer-kinds key when transformers computes it."""
    transformers = pytest.importorskip("transformers")
    profile = load_profile(name)
    wanted = layout_keys_from_transformers(profile, transformers)
    assert set(profile.layout_keys) == set(wanted)
    if name == "deepseek_v3":  # the rule is not vacuous
        assert wanted == ["first_k_dense_replace"]
    if name == "qwen3_5":
        assert wanted == ["layer_types"]
