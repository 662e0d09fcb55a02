"""Card rendering: golden cards, determinism, strict and sandboxed templates, Markdown escaping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from publisher.card.pipeline import render_spec
from publisher.cli import main

SPEC_NAMES = [
    "Qwen3.5-27B-NVFP4",
    "Qwen3.5-35B-A3B-NVFP4",
    "Qwen3.5-2B-NVFP4",
    "Qwen3.5-0.8B",
    "Qwen3.5-2B",
    # one real published model per family (facts from its public config.json and card)
    "Llama-3.1-8B-Instruct-NVFP4",
    "Mistral-7B-Instruct-v0.3-NVFP4",
    "Qwen3-8B-NVFP4",
    "Qwen3-30B-A3B-NVFP4",
    "DeepSeek-V3.1-NVFP4",
    "Kimi-K2-Instruct-NVFP4",
    "GLM-4.5-Air-NVFP4",
    "Gemma-3-27B-IT-NVFP4",
    "Nemotron-H-8B-Base-8K-NVFP4",
    "gpt-oss-120b",
    "GLM-5.1-NVFP4",
]


def _render(repo_root: Path, name: str) -> str:
    result = render_spec(repo_root / "model_specs" / f"{name}.yaml")
    assert result.text is not None, result.findings
    return result.text


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_card_matches_golden_and_is_deterministic(repo_root: Path, name: str) -> None:
    first = _render(repo_root, name)
    golden = (repo_root / "tests" / "golden" / f"{name}.md").read_text(encoding="utf-8")
    assert first == golden, (
        f"card changed; review and refresh: publisher render model_specs/{name}.yaml -o tests/golden/{name}.md --force"
    )
    assert _render(repo_root, name) == first


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_frontmatter_is_valid_yaml_with_hub_keys(repo_root: Path, name: str) -> None:
    from publisher.spec.loader import load_spec

    spec = load_spec(repo_root / "model_specs" / f"{name}.yaml").spec
    assert spec is not None
    text = _render(repo_root, name)
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n", 2)[1])
    assert meta["license"] == spec.hub.license
    assert meta["pipeline_tag"] == spec.hub.pipeline_tag
    assert meta["library_name"] == "transformers"
    if name.startswith("Qwen3.5"):
        assert (meta["license"], meta["pipeline_tag"]) == ("apache-2.0", "image-text-to-text")
    if name.endswith("NVFP4"):
        assert meta["base_model_relation"] == "quantized"
        assert isinstance(meta["base_model"], list)
        assert meta["base_model"] == list(spec.hub.base_model) and "/" in meta["base_model"][0]
    else:
        assert "base_model_relation" not in meta


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_check_card_finds_nothing_in_our_own_cards(
    repo_root: Path, name: str, tmp_path: Path
) -> None:
    card = tmp_path / "README.md"
    card.write_text(_render(repo_root, name), encoding="utf-8")
    assert main(["check-card", str(card)]) == 0


def test_27b_card_states_the_derived_table(repo_root: Path) -> None:
    text = _render(repo_root, "Qwen3.5-27B-NVFP4")
    assert "### Quantized to NVFP4 (496 modules)" in text
    assert "| MLP projections | 192 | 64 layers × 3 |" in text
    assert "| DeltaNet projections | 240 | 48 Gated DeltaNet layers × 5 |" in text
    assert "| Vision encoder (all) | 333 tensors |" in text
    assert "| Text norms | 209 |" in text
    assert "vllm serve publisher-demo/Qwen3.5-27B-NVFP4" in text
    assert "huggingface.co/publisher-demo/Qwen3.5-27B-NVFP4" in text  # one repo id everywhere


def test_35b_benchmark_table_names_every_column(repo_root: Path) -> None:
    text = _render(repo_root, "Qwen3.5-35B-A3B-NVFP4")
    assert "| Benchmark | Qwen3.5-35B-A3B | Qwen3.5-35B-A3B-NVFP4 | Recovery |" in text
    assert "| MMLU-Pro | 85.3 | 84.0 | 98.5% |" in text
    assert "| BabyVision | 38.4 / 29.6 | 38.4 / 29.6 | – |" in text


def test_checkpoint_size_comes_from_the_files(repo_root: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    with open(ckpt / "model.safetensors", "wb") as handle:
        handle.truncate(18_400_000_000)  # sparse: no disk used
    out = tmp_path / "README.md"
    spec = repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml"
    assert main(["render", str(spec), "--checkpoint", str(ckpt), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "| This checkpoint | 18.4 GB |" in text
    assert "| Size relative to BF16 | 2.9× smaller |" in text


def _spec_with(tmp_path: Path, repo_root: Path, extra: str) -> Path:
    base = (repo_root / "model_specs" / "Qwen3.5-2B.yaml").read_text(encoding="utf-8")
    family = repo_root / "model_specs" / "families" / "qwen3_5.yaml"
    spec = tmp_path / "model_specs" / "spec.yaml"
    (spec.parent / "families").mkdir(parents=True, exist_ok=True)  # `extends` stays inside
    (spec.parent / "families" / family.name).write_text(family.read_text(encoding="utf-8"))
    spec.write_text(base + extra, encoding="utf-8")
    return spec


def _templates(tmp_path: Path, repo_root: Path) -> Path:
    """A private copy of the templates (written afresh, small text files) the test may edit."""
    target = tmp_path / "templates"
    for source in (repo_root / "templates").rglob("*.j2"):
        dest = target / source.relative_to(repo_root / "templates")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def test_override_partial_replaces_a_section(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _templates(tmp_path, repo_root)
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "license.md.j2").write_text("## License\n\nOurs: {{ card.license }}\n")
    spec = _spec_with(tmp_path, repo_root, "card:\n  overrides: {license: cards/license.md.j2}\n")
    assert main(["render", str(spec)]) == 0
    assert "Ours: apache-2.0" in capsys.readouterr().out


def test_missing_spec_key_is_named(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _templates(tmp_path, repo_root)
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "license.md.j2").write_text("## License\n\n{{ spec.hub.license_url }}\n")
    spec = _spec_with(tmp_path, repo_root, "card:\n  overrides: {license: cards/license.md.j2}\n")
    assert main(["render", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "spec key 'spec.hub.license_url' is not set" in err
    assert "license.md.j2:3" in err
    assert "Traceback" not in err


def test_template_syntax_error_names_file_and_line(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = _templates(tmp_path, repo_root)
    (templates / "default" / "partials" / "license.md.j2").write_text(
        "## License\n\n{% if card.license %}\n"
    )
    spec = _spec_with(tmp_path, repo_root, "")
    assert main(["render", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "template syntax error" in err and "license.md.j2:3" in err


@pytest.mark.parametrize(
    "payload",
    [
        "{{ card.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ tool.items.__globals__ }}",
        "{{ partial.__globals__['os'].system('echo pwned') }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ],
)
def test_sandbox_refuses_escape_payloads(
    tmp_path: Path, repo_root: Path, payload: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _templates(tmp_path, repo_root)
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "license.md.j2").write_text(payload + "\n")
    spec = _spec_with(tmp_path, repo_root, "card:\n  overrides: {license: cards/license.md.j2}\n")
    code = main(["render", str(spec)])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert "pwned" not in out and "uid=" not in out
    assert "Traceback" not in err


def test_spec_text_cannot_run_template_code(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec_with(tmp_path, repo_root, "")
    text = spec.read_text(encoding="utf-8").replace(
        "  - About 4 GB of weights in BF16.", "  - \"{{ ''.__class__.__mro__ }} and a | pipe\""
    )
    spec.write_text(text, encoding="utf-8")
    assert main(["render", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "{{ ''.__class__.__mro__ }} and a | pipe" in out  # printed as text, never evaluated


def test_pipes_and_newlines_in_table_cells_are_escaped(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec_with(tmp_path, repo_root, 'environment:\n  - {name: "a|b", version: "1\\n2"}\n')
    assert main(["render", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "| a\\|b | 1 2 |" in out


def test_render_refuses_to_overwrite_a_hand_written_card(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "README.md"
    out.write_text("# my own card\n")
    spec = repo_root / "model_specs" / "Qwen3.5-2B.yaml"
    assert main(["render", str(spec), "-o", str(out)]) == 2
    assert out.read_text() == "# my own card\n"
    assert "--force" in capsys.readouterr().err
    assert main(["render", str(spec), "-o", str(out), "--force"]) == 0
    assert main(["render", str(spec), "-o", str(out)]) == 0  # our own card is replaced freely


def test_broken_spec_renders_nothing(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["render", str(repo_root / "tests" / "specs" / "broken" / "count_mismatch.yaml")]) == 1
    )
    out = capsys.readouterr().out
    assert "SPEC030" in out and "---\n" not in out


def test_render_a_folder_writes_one_card_per_spec(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "cards"
    assert main(["render", str(repo_root / "model_specs"), "--out-dir", str(out)]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(f"{name}/README.md" for name in SPEC_NAMES)  # no family files
    for name in SPEC_NAMES:
        golden = (repo_root / "tests" / "golden" / f"{name}.md").read_bytes()
        assert (out / name / "README.md").read_bytes() == golden


def test_render_several_specs_needs_an_out_dir(
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["render", str(repo_root / "model_specs")]) == 2
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert "--out-dir" in capsys.readouterr().err


def test_render_several_writes_the_good_cards_and_reports_the_broken(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = repo_root / "model_specs" / "Qwen3.5-2B.yaml"
    broken = repo_root / "tests" / "specs" / "broken" / "count_mismatch.yaml"
    out = tmp_path / "cards"
    assert main(["render", str(broken), str(good), "--out-dir", str(out)]) == 1
    assert (out / "Qwen3.5-2B" / "README.md").is_file()
    assert not (out / "count_mismatch").exists()
    assert "SPEC030" in capsys.readouterr().out


def test_render_refuses_two_specs_that_would_write_one_card(
    repo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = repo_root / "model_specs" / "Qwen3.5-2B.yaml"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / spec.name).write_bytes(spec.read_bytes())
    out = tmp_path / "cards"
    code = main(["render", str(tmp_path / "a"), str(tmp_path / "b"), "--out-dir", str(out)])
    assert code == 2
    assert not out.exists()  # nothing written, not even the first card
    assert "would both be written to <out-dir>/Qwen3.5-2B/README.md" in capsys.readouterr().err


def test_rendering_all_specs_imports_no_torch_or_transformers(repo_root: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from publisher.card.pipeline import render_spec\n"
        f"for name in {SPEC_NAMES!r}:\n"
        "    assert render_spec(Path('model_specs') / f'{name}.yaml').text\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
