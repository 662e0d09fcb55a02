"""The CLI starts fast: --help and lint import no transformers, torch or huggingface_hub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("transformers", "torch", "huggingface_hub", "safetensors", "numpy")


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    code = (
        "import sys, json\n"
        "from publisher.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_nothing_heavy(repo_root: Path) -> None:
    loaded = _modules_after(["--help"], repo_root)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_lint_imports_nothing_heavy(repo_root: Path) -> None:
    loaded = _modules_after(["lint", "model_specs"], repo_root)
    assert "publisher.spec.lint" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_rendering_every_card_imports_no_torch_or_transformers(
    repo_root: Path, tmp_path: Path
) -> None:
    loaded = _modules_after(["render", "model_specs", "--out-dir", str(tmp_path)], repo_root)
    specs = list((repo_root / "model_specs").glob("*.yaml"))
    assert len(list(tmp_path.glob("*/README.md"))) == len(specs) == 16
    assert "jinja2.sandbox" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("torch", "transformers", "safetensors")}


def test_a_command_loads_only_its_own_module(repo_root: Path) -> None:
    loaded = _modules_after(["lint", "model_specs"], repo_root)
    commands = {m for m in loaded if m.startswith("publisher.commands.")}
    assert commands == {"publisher.commands.lint", "publisher.commands.common"}


def test_command_names_follow_their_module_names() -> None:
    """The parser names a command it has not imported by its module name: keep them equal."""
    import importlib

    from publisher.cli import command_name
    from publisher.commands import COMMAND_MODULES

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"publisher.commands.{module_name}")
        assert command_name(module_name) == module.NAME


def test_help_lists_every_command_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    from publisher.cli import main
    from publisher.commands import COMMAND_MODULES

    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"publisher.commands.{module_name}")
        assert module.NAME in out and module.HELP[:40] in " ".join(out.split())


def test_an_unknown_command_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from publisher.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["rendr", "x.yaml"])
    assert exited.value.code == 2
    assert "invalid choice: 'rendr'" in capsys.readouterr().err
