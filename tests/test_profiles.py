"""Architecture profiles name exactly the tensors transformers' real models hold: names and
shapes, for every packaged profile, against the model transformers builds from a tiny config
(and, for MoE families, the names save_pretrained writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from publisher.spec.derive import derive
from publisher.spec.from_config import architecture_fields
from publisher.spec.model import Architecture
from publisher.spec.profile import load_profile

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _tiny_dense_config(tie: bool) -> Any:
    return transformers.Qwen3_5Config(
        text_config={
            "hidden_size": 64,
            "intermediate_size": 96,
            "num_hidden_layers": 8,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "linear_num_value_heads": 4,
            "linear_num_key_heads": 2,
            "linear_key_head_dim": 16,
            "linear_value_head_dim": 16,
            "vocab_size": 512,
            "tie_word_embeddings": tie,
        },
        vision_config={
            "depth": 3,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
        },
        tie_word_embeddings=tie,
    )


def _spec_architecture(config: Any) -> Architecture:
    fields = architecture_fields(config if isinstance(config, dict) else config.to_dict())
    fields["parameters"] = {"total": "1M"}
    return Architecture.model_validate(fields)


def _profile_tensors(arch: Architecture) -> dict[str, tuple[int, ...] | None]:
    inventory = derive(arch, load_profile(arch.profile))
    names: dict[str, tuple[int, ...] | None] = {}
    for ref in inventory.all_modules():
        for tensor in ref.tensor_names():
            names[tensor] = ref.shape if tensor == ref.tensor_names()[0] else None
    return names


def _profile_tensor_shapes(arch: Architecture) -> dict[str, tuple[int, ...]]:
    """Every tensor the profile predicts with its full shape (biases: the weight's rows)."""
    inventory = derive(arch, load_profile(arch.profile))
    assert not inventory.unsupplied, inventory.unsupplied
    shapes: dict[str, tuple[int, ...]] = {}
    for ref in inventory.all_modules():
        assert ref.shape is not None, ref.name
        weight, *rest = ref.tensor_names()
        shapes[weight] = ref.shape
        for bias in rest:
            shapes[bias] = ref.shape[:1]
    return shapes


def _saved_tensors(folder: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    saved: dict[str, tuple[int, ...]] = {}
    for shard in folder.glob("*.safetensors"):
        with safe_open(str(shard), "np") as handle:
            for name in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
                saved[name] = tuple(handle.get_slice(name).get_shape())
    return saved


FAMILY_CASES = [
    "llama",
    "mistral",
    "qwen3",
    "qwen3_moe",
    "deepseek_v3",
    "glm4_moe",
    "glm_moe_dsa",
    "gpt_oss",
    "nemotron_h",
    "gemma3",
]


@pytest.mark.parametrize("family", FAMILY_CASES)
def test_family_profile_matches_saved_names_and_shapes(family: str, tmp_path: Path) -> None:
    """The spec init would write from the saved config.json derives exactly the tensors
    save_pretrained wrote, with their shapes."""
    import json

    from publisher.testkit.families import save_family_checkpoint

    save_family_checkpoint(family, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    arch = _spec_architecture(config)
    assert arch.profile == family
    predicted = _profile_tensor_shapes(arch)
    saved = _saved_tensors(tmp_path)
    if family == "gemma3":
        # Released Gemma 3 checkpoints (and ModelOpt exports) keep SigLIP's `vision_model.`
        # level; transformers drops that PrefixChange when saving a model built from scratch
        # (revert_weight_conversion), so a scratch save lacks it. The export test covers the
        # published names end to end.
        saved = {
            n.replace("vision_tower.", "vision_tower.vision_model.", 1): s for n, s in saved.items()
        }
    assert sorted(set(predicted) - set(saved)) == []
    assert sorted(set(saved) - set(predicted)) == []
    wrong = {n: (predicted[n], saved[n]) for n in saved if predicted[n] != saved[n]}
    assert wrong == {}


@pytest.mark.parametrize("family", FAMILY_CASES)
def test_family_profile_matches_the_in_memory_model(family: str) -> None:
    """Dense families: the in-memory state dict (no save-time conversion) is the same set."""
    from publisher.testkit.families import FAMILIES, tiny_family_config

    config = tiny_family_config(family)
    with torch.device("meta"):
        model = getattr(transformers, FAMILIES[family].model_class)(config)
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    arch = _spec_architecture(config)
    predicted = _profile_tensor_shapes(arch)
    if any(".experts.0." in name for name in predicted) and not any(
        ".experts.0." in name for name in state
    ):
        pytest.skip("experts are fused in memory; the saved-names test covers them")
    if family == "gemma3":
        pytest.skip("the in-memory names carry a model. prefix save_pretrained drops")
    assert set(predicted) == set(state)
    assert {n: predicted[n] for n in state} == state


@pytest.mark.parametrize("tie", [False, True])
def test_dense_profile_matches_transformers_state_dict(tie: bool) -> None:
    config = _tiny_dense_config(tie)
    with torch.device("meta"):
        model = transformers.Qwen3_5ForConditionalGeneration(config)
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if tie:
        state.pop("lm_head.weight", None)  # tied: not written to the file
    arch = _spec_architecture(config)
    predicted = _profile_tensors(arch)
    assert set(predicted) == set(state)
    # logical weight shapes from the profile's formulas agree wherever the spec gives the values
    for name, shape in predicted.items():
        if shape is not None and not name.startswith("model.visual.patch_embed"):
            assert state[name] == shape, name


def test_moe_profile_matches_transformers_saved_names(tmp_path: Path) -> None:
    config = transformers.Qwen3_5MoeConfig(
        text_config={
            "hidden_size": 64,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "linear_num_value_heads": 4,
            "linear_num_key_heads": 2,
            "linear_key_head_dim": 16,
            "linear_value_head_dim": 16,
            "vocab_size": 512,
            "num_experts": 4,
            "num_experts_per_tok": 2,
            "moe_intermediate_size": 32,
            "shared_expert_intermediate_size": 32,
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
        },
    )
    torch.manual_seed(0)
    model = transformers.Qwen3_5MoeForConditionalGeneration(config).to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    from safetensors import safe_open

    saved: set[str] = set()
    for shard in tmp_path.glob("*.safetensors"):
        with safe_open(str(shard), "np") as handle:
            saved.update(handle.keys())
    predicted = _profile_tensors(_spec_architecture(config))
    assert set(predicted) == saved


def test_profile_counts_match_the_27b_reference_inventory(
    shared_dir: Path, repo_root: Path
) -> None:
    from publisher.spec.loader import load_spec

    loaded = load_spec(repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml")
    assert loaded.spec is not None
    predicted = _profile_tensors(loaded.spec.architecture)
    rows = (shared_dir / "reference-checkpoints" / "qwen3.5-27b-like-state-dict.tsv").read_text()
    reference = {line.split("\t")[0] for line in rows.splitlines() if line.strip()}
    assert set(predicted) == reference


# -- profile check, user profile files, load-time refusals ---------------------------------------


@pytest.mark.parametrize(
    "name", __import__("publisher.spec.profile").spec.profile.available_profiles()
)
def test_every_packaged_profile_passes_profile_check(name: str) -> None:
    from publisher.spec.profile_check import check_profile_against_transformers

    result = check_profile_against_transformers(name)
    assert result.differences == []
    assert result.tensors > 0


def _user_profile(tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    from importlib import resources

    text = (resources.files("publisher") / "profiles" / "llama.yaml").read_text()
    text = text.replace("name: llama", "name: my_llama")
    if replace:
        text = text.replace(*replace)
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    path = folder / "my_llama.yaml"
    path.write_text(text)
    return path


def test_profile_check_reports_every_name_and_shape_that_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from publisher.cli import main

    good = _user_profile(tmp_path)
    assert main(["profile", "check", str(good)]) == 0
    assert "matches LlamaForCausalLM" in capsys.readouterr().out
    bad = _user_profile(
        tmp_path,
        (
            'path: "model.layers.{L}.mlp.down_proj", kind: linear, bias: mlp_bias, shape: [hidden, intermediate]',
            'path: "model.layers.{L}.mlp.down", kind: linear, bias: mlp_bias, shape: [intermediate, hidden]',
        ),
    )
    load_profile.cache_clear()
    assert main(["profile", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert (
        "model.layers.{L}.mlp.down.weight: named by the profile, not in the model (4 times)" in out
    )
    assert "model.layers.{L}.mlp.down_proj.weight [4096, 11008]: in the model, named by no" in out


def test_a_profile_the_code_cannot_use_is_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from publisher.cli import main
    from publisher.spec.profile import ProfileError

    unsupplied = _user_profile(
        tmp_path, ("shape: [hidden, intermediate]", "shape: [hidden, conv_kernel]")
    )
    load_profile.cache_clear()
    with pytest.raises(ProfileError, match="'conv_kernel' is supplied by nothing"):
        load_profile(str(unsupplied))
    assert main(["profile", "check", str(unsupplied)]) == 2
    assert "conv_kernel" in capsys.readouterr().err
    unmatched = _user_profile(
        tmp_path,
        ('path: "model.layers.{L}.input_layernorm"', 'path: "model.layers.input_layernorm"'),
    )
    load_profile.cache_clear()
    with pytest.raises(ProfileError, match=r"needs \{L\}; this pattern can match no module"):
        load_profile(str(unmatched))


def test_profile_check_says_torch_is_needed_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from publisher.cli import main

    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    assert main(["profile", "check", "llama"]) == 2
    err = capsys.readouterr().err
    assert "needs torch and transformers" in err and "pip install torch" in err


def test_a_spec_may_name_a_profile_file_in_its_repository(
    tmp_path: Path, synth_cache_dir: Path
) -> None:
    from publisher.checkpoint.validate import validate_checkpoint
    from publisher.cli import main
    from publisher.spec.lint import lint_path
    from publisher.testkit.families import cached_family_export

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    _user_profile(repo)
    export = cached_family_export("llama", synth_cache_dir)
    spec_dir = repo / "model_specs"
    spec_dir.mkdir()
    spec = spec_dir / "Tiny-Llama-NVFP4.yaml"
    assert main(["init", str(export), "-o", str(spec)]) == 0
    spec.write_text(
        spec.read_text().replace("profile: llama\n", "profile: ../profiles/my_llama.yaml\n")
    )
    loaded = lint_path(spec)
    assert [f.message for f in loaded.findings] == []
    assert loaded.spec is not None and loaded.spec.architecture.profile.endswith("my_llama.yaml")
    assert [f.message for f in validate_checkpoint(loaded, export).findings] == []
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(spec.read_text().replace("../profiles/my_llama.yaml", "../../evil.yaml"))
    (spec_dir / "escape.yaml").write_text(outside.read_text())
    escaped = lint_path(spec_dir / "escape.yaml")
    assert [f.code for f in escaped.findings] == ["SPEC203"]
    broken = _user_profile(repo, ("shape: [vocab, hidden]}", "shape: [vocab, mystery]}"))
    load_profile.cache_clear()
    assert broken.is_file()
    codes = [f.code for f in lint_path(spec).findings]
    assert codes == ["SPEC202"]


def test_kimi_k2_configs_use_the_deepseek_v3_profile() -> None:
    from publisher.spec.from_config import profile_name_for

    config = {"model_type": "kimi_k2", "architectures": ["DeepseekV3ForCausalLM"]}
    assert profile_name_for(config) == "deepseek_v3"


def test_a_user_profile_extends_a_packaged_one_and_replaces_a_component(tmp_path: Path) -> None:
    """A profile file may extend a packaged profile; a component of the same id replaces the
    inherited one (here: Qwen2, Llama's names with q/k/v biases)."""
    from publisher.spec.profile_check import check_profile_against_transformers

    path = tmp_path / "my_qwen2.yaml"
    path.write_text(
        """name: my_qwen2
extends: llama
title: Qwen2 (a user's profile)
model_type: qwen2
architectures: [Qwen2ForCausalLM]
components:
  - id: attention_proj
    label: Attention projections
    members:
      - {scope: layer, path: "model.layers.{L}.self_attn.q_proj", kind: linear, bias: true, shape: [q_heads * head_dim, hidden]}
      - {scope: layer, path: "model.layers.{L}.self_attn.k_proj", kind: linear, bias: true, shape: [kv_heads * head_dim, hidden]}
      - {scope: layer, path: "model.layers.{L}.self_attn.v_proj", kind: linear, bias: true, shape: [kv_heads * head_dim, hidden]}
      - {scope: layer, path: "model.layers.{L}.self_attn.o_proj", kind: linear, shape: [hidden, q_heads * head_dim]}
"""
    )
    result = check_profile_against_transformers(str(path))
    assert result.differences == []
    assert [c.id for c in result.profile.components].count("attention_proj") == 1
