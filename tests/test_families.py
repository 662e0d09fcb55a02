"""Every family end to end on a genuine tiny ModelOpt 0.47 NVFP4 export made here on the CPU:
`init` picks the profile from config.json, its spec lints clean and validates with 0 findings,
and `audit` names every module's component and shows dense vs MoE layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.checkpoint.audit import audit_inventory
from publisher.checkpoint.reader import read_checkpoint
from publisher.checkpoint.validate import validate_checkpoint
from publisher.cli import main
from publisher.spec.lint import lint_path

pytest.importorskip("torch")
pytest.importorskip("modelopt")

FAMILIES = [
    "llama",
    "mistral",
    "qwen3",
    "qwen3_moe",
    "deepseek_v3",
    "glm4_moe",
    "glm_moe_dsa",
    "gpt_oss",  # fused experts: formats.FORMATS["modelopt_nvfp4_fused"]
    "nemotron_h",
    "gemma3",
]
DENSE_THEN_MOE = {"qwen3_moe", "deepseek_v3", "glm4_moe", "glm_moe_dsa", "nemotron_h"}


def _export(family: str, synth_cache_dir: Path, **kwargs: object) -> Path:
    from publisher.testkit.families import cached_family_export

    return cached_family_export(family, synth_cache_dir, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("family", FAMILIES)
def test_init_spec_lints_clean_and_validates_with_no_findings(
    family: str, synth_cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = _export(family, synth_cache_dir)
    spec_path = tmp_path / f"Tiny-{family}-NVFP4.yaml"
    assert main(["init", str(export), "-o", str(spec_path)]) == 0
    text = spec_path.read_text()
    assert f"profile: {family}\n" in text
    loaded = lint_path(spec_path)
    assert [f.render() if hasattr(f, "render") else str(f) for f in loaded.findings] == []
    report = validate_checkpoint(loaded, export)
    assert [f.message for f in report.findings] == []
    capsys.readouterr()
    assert main(["validate", str(spec_path), str(export)]) == 0


# config.json as transformers writes it states every key validation needs for these families,
# so validating them never imports transformers or torch (2.4 s and 240 MB). Nemotron-H's has
# no num_hidden_layers, and validation asks transformers for it.
NEEDS_TRANSFORMERS = {"nemotron_h"}


@pytest.mark.parametrize("family", FAMILIES)
def test_validate_imports_transformers_only_when_config_json_leaves_a_key_out(
    family: str, synth_cache_dir: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    export = _export(family, synth_cache_dir)
    spec_path = tmp_path / "spec.yaml"
    assert main(["init", str(export), "-o", str(spec_path)]) == 0
    code = (
        "import contextlib, io, sys\n"
        "from publisher.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['validate', {str(spec_path)!r}, {str(export)!r}])\n"
        "print(code, 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = family in NEEDS_TRANSFORMERS
    assert done.stdout.split()[-3:] == ["0", str(imported), str(imported)]


@pytest.mark.parametrize("family", [f for f in FAMILIES if isinstance(f, str)])
def test_audit_names_every_component_and_shows_dense_and_moe_layers(
    family: str, synth_cache_dir: Path
) -> None:
    export = _export(family, synth_cache_dir)
    result = audit_inventory(read_checkpoint(export)[0])
    assert result.profile == family
    unplaced = sorted(n for n, (component, _) in result.modules.items() if "*" in component)
    assert unplaced == []
    if family in DENSE_THEN_MOE:
        ffn_column = result.matrix_header.index("ffn")
        kinds = {row[ffn_column] for _, row in result.matrix}
        assert {"dense", "MoE"} <= kinds


def test_a_genuine_nemotron_export_with_sentinel_excludes_is_flagged(
    synth_cache_dir: Path, tmp_path: Path
) -> None:
    """ModelOpt 0.47 + transformers 5.24 leave a NUL sentinel in Nemotron-H's exclude names:
    no loader matches them, so lm_head would be read as quantized. Validate says so."""
    raw = _export("nemotron_h", synth_cache_dir, repair_excludes=False)
    excludes = json.loads((raw / "hf_quant_config.json").read_text())["quantization"][
        "exclude_modules"
    ]
    assert any("\0" in name for name in excludes)
    spec_path = tmp_path / "nemotron.yaml"
    assert main(["init", str(raw), "-o", str(spec_path)]) == 0
    report = validate_checkpoint(lint_path(spec_path), raw)
    flagged = {f.location.pointer for f in report.findings if f.code == "VAL010"}
    assert "lm_head" in flagged


def test_init_of_an_unknown_model_type_names_the_profiles_and_how_to_add_one(
    synth_cache_dir: Path, tmp_path: Path
) -> None:
    source = _export("llama", synth_cache_dir)
    copy = tmp_path / "odd"
    copy.mkdir()
    for item in source.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    config = json.loads((copy / "config.json").read_text())
    config["model_type"] = "falcon_mamba_x"
    config["architectures"] = ["FalconMambaXForCausalLM"]
    (copy / "config.json").write_text(json.dumps(config))
    spec_path = tmp_path / "odd.yaml"
    assert main(["init", str(copy), "-o", str(spec_path)]) == 0
    head = "".join(line for line in spec_path.read_text().splitlines(True) if line.startswith("#"))
    assert "unknown architecture profile 'falcon_mamba_x'" in head
    assert "deepseek_v3" in head and "llama" in head and "nemotron_h" in head
    assert "publisher profile check FILE" in head
    loaded = lint_path(spec_path)
    assert loaded.findings  # the spec cannot pass until a profile describes the family


def test_a_declared_layout_that_config_json_contradicts_is_named_by_layer(
    synth_cache_dir: Path, tmp_path: Path
) -> None:
    """The layout is derived from config.json by init and cross-checked by validate: a spec
    that makes the first two layers dense when first_k_dense_replace is 1 is caught."""
    export = _export("deepseek_v3", synth_cache_dir)
    spec_path = tmp_path / "ds.yaml"
    assert main(["init", str(export), "-o", str(spec_path)]) == 0
    text = spec_path.read_text()
    assert "layout: 1 × (MLA → FFN) → 3 × (MLA → MoE)" in text
    spec_path.write_text(
        text.replace("1 × (MLA → FFN) → 3 × (MLA → MoE)", "2 × (MLA → FFN) → 2 × (MLA → MoE)")
    )
    report = validate_checkpoint(lint_path(spec_path), export)
    messages = [f.message for f in report.findings if f.code == "VAL020"]
    assert "config.json makes layer 1 MLA → MoE but the layout makes it MLA → FFN" in messages


def test_no_family_label_is_left_in_python() -> None:
    """Card rows, mixer labels and vocabulary notes come from profiles: no Qwen3.5 label is
    spelled in the Python code that builds cards, specs or checks."""
    import publisher

    root = Path(publisher.__file__).parent
    sources = [p for p in root.rglob("*.py") if "testkit" not in p.parts and p.name != "demo.py"]
    labels = ("Gated DeltaNet", "Gated Attention", "(padded)", "DeltaNet heads", "gated_deltanet")
    found = [
        f"{p.relative_to(root)}: {label}"
        for p in sources
        for label in labels
        if label in p.read_text(encoding="utf-8")
    ]
    assert found == []


def test_a_shape_the_spec_cannot_give_is_reported_never_skipped(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """A DeltaNet conv1d whose kernel the spec and the profile cannot give: lint says which
    key to add (SPEC201, error), and validate says the shapes went unchecked (VAL201)."""
    import yaml

    data = yaml.safe_load(modelopt_dense_spec.read_text())
    profile_file = tmp_path / "qwen3_5_no_default.yaml"
    from importlib import resources

    text = (resources.files("publisher") / "profiles" / "qwen3_5.yaml").read_text()
    text = text.replace(
        "default: 4, label: DeltaNet conv1d kernel", "label: DeltaNet conv1d kernel"
    )
    text = text.replace("config: linear_conv_kernel_dim, ", "config: no_such_key, ")
    profile_file.write_text(text.replace("name: qwen3_5\n", "name: qwen3_5_strict\n"))
    (tmp_path / ".git").mkdir()
    data["architecture"]["profile"] = profile_file.name
    data["architecture"].setdefault("dims", {}).pop("conv_kernel", None)
    spec = tmp_path / "strict.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    loaded = lint_path(spec)
    spec201 = [f for f in loaded.findings if f.code == "SPEC201"]
    assert len(spec201) == 1 and "architecture.dims.conv_kernel" in spec201[0].message
    assert spec201[0].severity.value == "error"
    report = validate_checkpoint(loaded, modelopt_dense_dir)
    val201 = [f for f in report.findings if f.code == "VAL201"]
    assert [f.location.pointer for f in val201] == ["deltanet_conv1d"]
    assert "48 modules" in val201[0].message


def test_init_reads_fused_experts_quantized_whole(synth_cache_dir: Path, tmp_path: Path) -> None:
    """gpt-oss's fused experts, quantized whole by ModelOpt (U8 [E, in/2, out] with its scales),
    are a storage publisher reads: init writes them as NVFP4 with their count, nothing is left
    out, and the spec lints with no finding at all."""
    export = _export("gpt_oss", synth_cache_dir)
    spec_path = tmp_path / "gpt-oss.yaml"
    assert main(["init", str(export), "-o", str(spec_path)]) == 0
    text = spec_path.read_text()
    assert "  - component: experts\n    precision: nvfp4\n" in text
    assert "Left out of quantization.components" not in text
    assert lint_path(spec_path).findings == []
