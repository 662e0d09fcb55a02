"""The CLI starts fast: --help and lint import no transformers, torch or huggingface_hub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
