"""The catalogue of bad inputs (issue 7): every one gets a clean answer.

Each case runs one command through `publisher.cli.main` and asserts what a person reads: the
exit code (1 findings, 2 unusable input or usage, 3 Hub or network), a key phrase of the one-line
message, where it points (file and, where it applies, line), no traceback, no "internal error",
and nothing written: the working folder is byte-for-byte as the case left it (no card, spec,
manifest or temporary file appears) and a Hub repository keeps its commits.

Areas: specs and family files, templates, hand-written cards, checkpoint files (every CKPT code),
quantization configs and validation (VAL, QCFG), command-line usage, and the Hub (push and
`audit REPO_ID` against the local Hub with injected faults).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from publisher.checkpoint.formats import TensorSpec
from publisher.cli import main
from publisher.localhub.server import DEMO_TOKEN
from tests.checkpoint_variants import project_with_templates, write_variant

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from publisher.localhub.server import LocalHub

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_SPEC = (REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8")
FAKE_TOKEN = "hf_SECRETleaktest1234567890"


# ---- running a case ---------------------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main(argv) → (exit code, stdout, stderr); argparse's SystemExit counts as a return."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under root (links not followed): (mode, size, mtime_ns)."""
    state: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            st = path.lstat()
            state[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return state


@dataclass(frozen=True)
class Case:
    """One bad input. `build(root)` writes it under root and returns the command line."""

    id: str
    build: Callable[[Path], list[str]]
    exit: int
    phrase: str
    where: tuple[str, int | None] | None = None  # (file name, line) the message must name
    code: str | None = None  # the finding code printed with it


def run_process(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """`python -m publisher ARGV` in a subprocess (for settings read once per process)."""
    proc = subprocess.run([sys.executable, "-m", "publisher", *argv], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


def check_case(
    case: Case,
    root: Path,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str] | None = None,
) -> tuple[str, str]:
    argv = case.build(root)
    before = snapshot(root)
    code, out, err = run_cli(argv, capsys) if env is None else run_process(argv, env)
    text = out + err
    assert code == case.exit, f"exit {code}, expected {case.exit}\n{text[-2000:]}"
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    lines = [line for line in text.splitlines() if case.phrase in line]
    assert lines, f"{case.phrase!r} not in\n{text[-2000:]}"
    line = lines[0]
    if case.code is not None:
        assert case.code in line, line
    if case.where is not None:
        name, number = case.where
        assert name in line, line
        if number is not None:
            assert f"{name}:{number}" in line, line
    if err.strip() and code in (2, 3) and "usage:" not in err:
        assert len(err.strip().splitlines()) == 1, f"not one line:\n{err}"
    assert snapshot(root) == before, "the command wrote or changed files"
    return out, err


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The case's working folder (everything a case writes lives here)."""
    monkeypatch.delenv("PUBLISHER_TEMPLATES", raising=False)
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.delenv("PUBLISHER_DEBUG", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    return work


# ---- specs and family files ----------------------------------------------------------------


def _spec(text: str | bytes, name: str = "spec.yaml") -> Callable[[Path], list[str]]:
    """render SPEC -o README.md: lint, then render; nothing may be written on bad input."""

    def build(root: Path) -> list[str]:
        path = root / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return ["render", str(path), "-o", str(root / "README.md")]

    return build


def _with_family(spec_text: str, family_text: str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        (root / "families").mkdir()
        (root / "families" / "fam.yaml").write_text(family_text, encoding="utf-8")
        return _spec("extends: families/fam.yaml\n" + spec_text)(root)

    return build


def _extends_chain(root: Path) -> list[str]:
    for i in range(10):
        (root / f"f{i}.yaml").write_text(f"extends: f{i + 1}.yaml\n", encoding="utf-8")
    (root / "f10.yaml").write_text("summary: end of the chain\n", encoding="utf-8")
    return _spec("extends: f0.yaml\n" + BASE_SPEC)(root)


def _spec_dir(root: Path) -> list[str]:
    (root / "spec.yaml").mkdir()
    return ["render", str(root / "spec.yaml"), "-o", str(root / "README.md")]


def _spec_missing(root: Path) -> list[str]:
    return ["render", str(root / "nope.yaml"), "-o", str(root / "README.md")]


def _lint_long_path(root: Path) -> list[str]:
    return ["lint", str(root / ("s" * 300 + ".yaml"))]


_ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)

SPEC_CASES = [
    Case("not UTF-8", _spec(BASE_SPEC.encode() + b"license_note: caf\xe9\n"), 2, "not UTF-8",
         ("spec.yaml", None), "SPEC001"),
    Case("control character", _spec(BASE_SPEC + "license_note: a\x07b\n"), 2,
         "U+0007 is not allowed", ("spec.yaml", 21), "SPEC001"),
    Case("tab indentation", _spec(BASE_SPEC.replace("  license", "\tlicense")), 2,
         "YAML syntax error", ("spec.yaml", 6), "SPEC001"),
    Case("two YAML documents", _spec(BASE_SPEC + "---\nname: other\n"), 2,
         "another document", ("spec.yaml", 21), "SPEC001"),
    Case("YAML merge key", _spec(BASE_SPEC + "x: &x {a: 1}\ny:\n  <<: *x\n"), 2,
         "merge keys", ("spec.yaml", 23), "SPEC001"),
    Case("python tag", _spec(BASE_SPEC + "license_note: !!python/name:os.system\n"), 2,
         "could not determine a constructor", ("spec.yaml", 21), "SPEC001"),
    Case("unknown tag", _spec(BASE_SPEC + "license_note: !shell rm -rf\n"), 2,
         "could not determine a constructor", ("spec.yaml", 21), "SPEC001"),
    Case("impossible date", _spec(BASE_SPEC.replace("summary: A small test model.",
                                                    "summary: 2024-02-30")), 2,
         "day is out of range", ("spec.yaml", 4), "SPEC001"),
    Case("5,000-digit integer", _spec(BASE_SPEC.replace("hidden_size: 2048",
                                                        "hidden_size: 1" + "0" * 5000)), 2,
         "Exceeds the limit", ("spec.yaml", 12), "SPEC001"),
    Case("a scalar, not a mapping", _spec("just some text\n"), 2, "must be a YAML mapping",
         ("spec.yaml", 1), "SPEC007"),
    Case("empty file", _spec(""), 2, "the spec is empty", ("spec.yaml", None), "SPEC007"),
    Case("null document", _spec("null\n"), 2, "the spec is empty", ("spec.yaml", None),
         "SPEC007"),
    Case("an empty folder", _spec_dir, 2, "is a folder with no spec files", ("spec.yaml", None),
         "SPEC005"),
    Case("missing file", _spec_missing, 2, "file not found", ("nope.yaml", None), "SPEC005"),
    Case("3 MB spec", _spec(BASE_SPEC + "# " + "x" * 3_000_000 + "\n"), 2,
         "the limit is 2,097,152", ("spec.yaml", None), "SPEC006"),
    Case("nested 1,000 deep", _spec("summary: " + "[" * 1000 + "]" * 1000 + "\n"), 2,
         "nested more than 100 levels", ("spec.yaml", 1), "SPEC006"),
    Case("alias bomb", _spec(_ALIAS_BOMB), 2, "an alias bomb", ("spec.yaml", None), "SPEC006"),
    Case("extends is a list", _spec("extends: [a.yaml]\n" + BASE_SPEC), 2,
         "must be a path to a family file", ("spec.yaml", 1), "SPEC004"),
    Case("extends a folder", _spec("extends: .\n" + BASE_SPEC), 2, "which does not exist",
         ("spec.yaml", 1), "SPEC004"),
    Case("extends a name too long", _spec("extends: " + "f" * 5000 + ".yaml\n" + BASE_SPEC), 2,
         "which does not exist", ("spec.yaml", 1), "SPEC004"),
    Case("extends itself", _spec("extends: spec.yaml\n" + BASE_SPEC), 2, "'extends' cycle",
         ("spec.yaml", None), "SPEC003"),
    Case("extends chain of 11", _extends_chain, 2, "'extends' chain deeper than 8",
         (".yaml", None), "SPEC003"),
    Case("family file with a syntax error", _with_family(BASE_SPEC, "hub: {license: [\n"), 2,
         "YAML syntax error", ("fam.yaml", 2), "SPEC001"),
    Case("family file with a duplicate key", _with_family(BASE_SPEC, "a: 1\nb: 2\na: 3\n"), 2,
         "duplicate key 'a' (first at line 1)", ("fam.yaml", 3), "SPEC002"),
    Case("family file is a list", _with_family(BASE_SPEC, "- a\n- b\n"), 2,
         "must be a YAML mapping", ("fam.yaml", 1), "SPEC007"),
    Case("family file sets an unknown key", _with_family(BASE_SPEC, "hub:\n  licence: mit\n"), 1,
         "did you mean 'license'", ("fam.yaml", 2), "SPEC010"),
    Case("duplicate nested key", _spec(BASE_SPEC.replace("  hidden_size: 2048\n",
                                                         "  hidden_size: 2048\n  hidden_size: 1\n")),
         2, "duplicate key 'hidden_size'", ("spec.yaml", 13), "SPEC002"),
    Case("negative layer count", _spec(BASE_SPEC.replace("num_layers: 8", "num_layers: -8")), 1,
         "greater than 0", ("spec.yaml", 14), "SPEC011"),
    Case("10^8 vision blocks", _spec(BASE_SPEC + "  vision: {depth: 100000000, hidden_size: 32}\n"),
         1, "more than the 1,000,000 publisher derives", ("spec.yaml", 21), "SPEC011"),
    Case("absolute extra_files path", _spec(BASE_SPEC + "extra_files: [/etc/passwd]\n"), 1,
         "leaves the repository", ("spec.yaml", 21), "SPEC070"),
    Case("repo id with a space", _spec(BASE_SPEC.replace("example-org/Tiny-2B", "example org/T")),
         1, "not a valid Hub repository id", ("spec.yaml", 3), "SPEC054"),
    Case("lint a path too long for the file system", _lint_long_path, 2, "cannot use this path",
         ("sss", None), "SPEC005"),
]  # fmt: skip


@pytest.mark.parametrize("case", SPEC_CASES, ids=lambda c: c.id)
def test_bad_spec(case: Case, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, root, capsys)


# ---- templates ------------------------------------------------------------------------------


def _template(
    partial_text: str | bytes | None = None, spec_extra: str = "", override: str | None = None
) -> Callable[[Path], list[str]]:
    """Replace the license partial with `partial_text`, or point an override at `override`."""

    def build(root: Path) -> list[str]:
        spec = project_with_templates(root)
        if override is not None:
            (root / "cards" / "license.md.j2").write_text(override, encoding="utf-8")
        elif partial_text is not None:
            target = root / "templates" / "default" / "partials" / "license.md.j2"
            if isinstance(partial_text, bytes):
                target.write_bytes(partial_text)
            else:
                target.write_text(partial_text, encoding="utf-8")
        spec.write_text(BASE_SPEC + spec_extra, encoding="utf-8")
        return ["render", str(spec), "-o", str(root / "README.md")]

    return build


def _override_symlink(root: Path) -> list[str]:
    spec = project_with_templates(root)
    (root / "cards" / "license.md.j2").symlink_to("/etc/passwd")
    spec.write_text(BASE_SPEC + "card:\n  overrides: {license: cards/license.md.j2}\n")
    return ["render", str(spec), "-o", str(root / "README.md")]


_OVERRIDE = "card:\n  overrides: {license: cards/license.md.j2}\n"

TEMPLATE_CASES = [
    Case("syntax error in a partial", _template("## License\n\n{% if card.license %}\n"), 2,
         "template syntax error", ("license.md.j2", 3)),
    Case("override file missing", _template(spec_extra="card:\n  overrides: {license: cards/no.md.j2}\n"),
         2, "template not found: cards/no.md.j2", ("templates", None)),
    Case("override path with ..", _template(spec_extra="card:\n  overrides: {license: ../x.md.j2}\n"),
         1, "leaves the repository", ("spec.yaml", 22), "SPEC070"),
    Case("override of an unknown partial",
         _template(spec_extra="card:\n  overrides: {licence: cards/x.md.j2}\n"), 2,
         "card.overrides names 'licence', which is not a partial", ("spec.yaml", None)),
    Case("override that is a folder", _template(spec_extra="card:\n  overrides: {license: cards}\n"),
         2, "template not found: cards", ("templates", None)),
    Case("override that links to /etc/passwd", _override_symlink, 2,
         "resolves outside the template folders", ("templates", None)),
    Case("template name with a slash", _template(spec_extra="card:\n  template: default/partials\n"),
         2, "must be a plain folder name", ("spec.yaml", None)),
    Case("template name ..", _template(spec_extra="card:\n  template: ..\n"), 2,
         "must be a plain folder name", ("spec.yaml", None)),
    Case("unknown template folder", _template(spec_extra="card:\n  template: nope\n"), 2,
         "template not found: nope/card.md.j2", ("templates", None)),
    Case("undefined name", _template("{{ nope }}\n"), 2, "'nope' is not defined",
         ("license.md.j2", 1)),
    Case("missing spec key", _template(override="{{ spec.hub.license_url }}\n", spec_extra=_OVERRIDE),
         2, "spec key 'spec.hub.license_url' is not set", ("license.md.j2", 1)),
    Case("division by zero", _template("x\n{{ 1 / 0 }}\n"), 2, "ZeroDivisionError",
         ("license.md.j2", 2)),
    Case("adding a number and a string", _template("{{ 1 + 'a' }}\n"), 2, "TypeError",
         ("license.md.j2", 1)),
    Case("unknown test", _template("{% if 1 is shiny %}{% endif %}\n"), 2, "No test named 'shiny'",
         ("license.md.j2", 1)),
    Case("endless recursion", _template("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n"), 2,
         "RecursionError", ("license.md.j2", 1)),
    Case("a range over the sandbox's limit", _template("{{ range(10**9) | list }}\n"), 2,
         "MAX_RANGE", ("license.md.j2", 1)),
    Case("a 10 GB string", _template("{{ 'a' * 10**10 }}\n"), 2, "refused by the sandbox",
         ("license.md.j2", 1)),
    Case("include outside the template folders", _template("{% include '../../../etc/passwd' %}\n"),
         2, "template not found: ../../../etc/passwd", ("templates", None)),
    Case("template not UTF-8", _template(b"caf\xe9 {{ card.license }}\n"), 2, "not UTF-8",
         ("templates", None)),
    Case("sandbox escape", _template("{{ ''.__class__.__mro__[1].__subclasses__() }}\n"), 2,
         "refused by the sandbox", ("license.md.j2", 1)),
]  # fmt: skip


@pytest.mark.parametrize("case", TEMPLATE_CASES, ids=lambda c: c.id)
def test_bad_template(case: Case, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, root, capsys)


# ---- hand-written cards (check-card) ---------------------------------------------------------

FM = "---\nlicense: apache-2.0\npipeline_tag: text-generation\nlibrary_name: transformers\n---\n"
TINY_SPEC = REPO_ROOT / "tests" / "specs" / "minimal.yaml"


def _card(text: str | bytes, *extra: str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        path = root / "README.md"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return ["check-card", str(path), *extra]

    return build


def _card_dir(root: Path) -> list[str]:
    (root / "README.md").mkdir()
    return ["check-card", str(root / "README.md")]


def _card_with_broken_spec(root: Path) -> list[str]:
    (root / "spec.yaml").write_text("name: [\n", encoding="utf-8")
    (root / "README.md").write_text(FM + "# Tiny-2B\n", encoding="utf-8")
    return ["check-card", str(root / "README.md"), "--spec", str(root / "spec.yaml")]


_SPEC = ("--spec", str(TINY_SPEC))

CARD_CASES = [
    Case("CARD001 no frontmatter", _card("# Acme-2B\n\nA model.\n"), 1, "no YAML frontmatter",
         ("README.md", 1), "CARD001"),
    Case("CARD002 collapsed frontmatter",
         _card("--- license: apache-2.0 pipeline_tag: text-generation --- # Acme-2B\n"), 1,
         "lost its line breaks", ("README.md", 1), "CARD002"),
    Case("CARD003 invalid YAML", _card("---\nlicense: [apache-2.0\n---\n# Acme-2B\n"), 1,
         "not valid YAML", ("README.md", 2), "CARD003"),
    Case("CARD003 never closed", _card("---\nlicense: apache-2.0\n# Acme-2B\n"), 1,
         "never closes", ("README.md", 1), "CARD003"),
    Case("CARD003 a list", _card("---\n- a\n- b\n---\n# Acme-2B\n"), 1,
         "not a mapping", ("README.md", 2), "CARD003"),
    Case("CARD003 impossible date", _card("---\nlicense: 2024-02-30\n---\n# Acme-2B\n"), 1,
         "day is out of range", ("README.md", 2), "CARD003"),
    Case("CARD003 nested 5,000 deep", _card("---\nlicense: " + "[" * 5000 + "]" * 5000 +
                                            "\n---\n# Acme-2B\n"), 1,
         "nested too deeply", ("README.md", 2), "CARD003"),
    Case("CARD004 pipeline tag", _card("---\nlicense: apache-2.0\npipeline_tag: text-generaton\n"
                                       "---\n# Acme-2B\n"), 1,
         "did you mean 'text-generation'", ("README.md", 3), "CARD004"),
    Case("CARD005 license", _card("---\nlicense: apache2\n---\n# Acme-2B\n"), 1,
         "did you mean 'apache-2.0'", ("README.md", 2), "CARD005"),
    Case("CARD006 library", _card("---\nlicense: apache-2.0\nlibrary_name: vllm\n---\n# Acme-2B\n"),
         1, "serving app", ("README.md", 3), "CARD006"),
    Case("CARD007 relation", _card("---\nlicense: apache-2.0\nbase_model: acme/Acme-2B\n"
                                   "base_model_relation: quantised\n---\n# Acme-2B-FP8\n"), 1,
         "did you mean 'quantized'", ("README.md", 4), "CARD007"),
    Case("CARD008 base model URL", _card("---\nlicense: apache-2.0\n"
                                         "base_model: https://huggingface.co/acme/Acme-2B\n"
                                         "---\n# Acme-2B-FP8\n"), 1,
         "not a valid repo id", ("README.md", 3), "CARD008"),
    Case("CARD009 another base", _card(FM[:-4] + "base_model: acme/Acme-2B\n---\n# Acme-2B-FP8\n\n"
                                       "An FP8 quantized version of acme/Acme-9B.\n"), 1,
         "names acme/Acme-9B as the base", ("README.md", 9), "CARD009"),
    Case("CARD010 parameter count", _card(FM + "# Acme-2B\n\nA model with 27B parameters.\n"), 1,
         "states 27B parameters", ("README.md", 8), "CARD010"),
    Case("CARD011 two owners", _card(FM + "# Widget-4B\n\n```bash\nvllm serve first-org/Widget-4B\n"
                                     "```\n\nSee https://huggingface.co/second-org/Widget-4B\n"), 1,
         "one repository named 2 ways", ("README.md", 12), "CARD011"),
    Case("CARD012 mojibake", _card(FM + "# Acme-2B\n\nIt is 3 Ã— faster.\n"), 1, "mojibake",
         ("README.md", 8), "CARD012"),
    Case("CARD013 short row", _card(FM + "# Acme-2B\n\n| Benchmark | Base | Ours |\n|---|---|---|\n"
                                    "| MMLU | 70.1 |\n"), 1,
         "do not have the header's 3 cells", ("README.md", 10), "CARD013"),
    Case("CARD014 shifted header", _card(FM + "# Acme-2B\n\n| Base | Ours | |\n|---|---|---|\n"
                                         "| MMLU | 70.1 | 69.8 |\n| GSM8K | 80.2 | 79.9 |\n"), 1,
         "header does not line up", ("README.md", 8), "CARD014"),
    Case("CARD015 unnamed label column", _card(FM + "# Acme-2B\n\n| | Base | Ours |\n|---|---|---|\n"
                                               "| MMLU | 70.1 | 69.8 |\n"), 0,
         "first header cell is empty", ("README.md", 8), "CARD015"),
    Case("CARD016 copied scores", _card(FM + "# Acme-2B\n\n| Benchmark | Base | Ours |\n"
                                        "|---|---|---|\n| MMLU | 70.1 | 70.1 |\n"
                                        "| GSM8K | 80.2 | 80.2 |\n| ARC | 60.0 | 60.0 |\n"), 0,
         "identical values in every column", ("README.md", 8), "CARD016"),
    Case("CARD017 counts vs total", _card(FM + "# Acme-2B\n\nQuantized to NVFP4 (150 layers)\n\n"
                                          "| Component | Count |\n|---|---|\n"
                                          "| MLP projections | 96 |\n| Attention projections | 96 |\n"),
         1, "add up to 192", ("README.md", 8), "CARD017"),
    Case("CARD018 counted twice", _card(FM + "# Acme-2B\n\nQuantized to NVFP4 (116 layers)\n\n"
                                        "| Component | Count |\n|---|---|\n"
                                        "| MLP projections | 96 |\n| Vision tower linears | 20 |\n\n"
                                        "Kept at BF16\n\n| Component | Count |\n|---|---|\n"
                                        "| Vision tower (all) | 60 |\n"), 0,
         "count the same tensors twice", ("README.md", 13), "CARD018"),
    Case("CARD019 product", _card(FM + "# Acme-2B\n\n| Component | Count |\n|---|---|\n"
                                  "| Attention projections | 90 (24×4) |\n"), 1,
         "counts 90 but 24×4 = 96", ("README.md", 10), "CARD019"),
    Case("CARD020 repo owner vs spec", _card(FM + "# Tiny-2B\n\n```bash\n"
                                             "vllm serve someone-else/Tiny-2B\n```\n", *_SPEC), 1,
         "someone-else/Tiny-2B", ("README.md", 9), "CARD020"),
    Case("CARD021 base model vs spec", _card(FM[:-4] + "base_model: other-org/Big-9B\n---\n"
                                             "# Tiny-2B\n", *_SPEC), 1,
         "other-org/Big-9B", ("README.md", 5), "CARD021"),
    Case("CARD022 parameters vs spec", _card(FM + "# Tiny\n\nNumber of Parameters: 9B\n", *_SPEC), 1,
         "9B", ("README.md", 8), "CARD022"),
    Case("CARD023 base in text only", _card("---\nlicense: mit\n---\n# Acme-7B-FP8\n\n"
                                            "An FP8 quantized version of acme/Acme-7B.\n"), 0,
         "version of acme/Acme-7B", ("README.md", 6), "CARD023"),
    Case("CARD024 license other", _card("---\nlicense: other\npipeline_tag: text-generation\n---\n"
                                        "# Other-1B\n"), 0,
         "no license_name", ("README.md", 2), "CARD024"),
    Case("card not UTF-8", _card(b"---\nlicense: mit\n---\n# caf\xe9\n"), 2, "not UTF-8",
         ("README.md", None)),
    Case("card is a folder", _card_dir, 2, "is a directory", ("README.md", None)),
    Case("card missing", lambda root: ["check-card", str(root / "nope.md")], 2, "no such file",
         ("nope.md", None)),
    Case("--spec that does not load", _card_with_broken_spec, 2, "SPEC001",
         ("spec.yaml", None)),
]  # fmt: skip


@pytest.mark.parametrize("case", CARD_CASES, ids=lambda c: c.id)
def test_bad_card(case: Case, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, root, capsys)


# ---- checkpoint files (audit DIR) ----------------------------------------------------------


def _t(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def _raw_shard(path: Path, header: bytes, data_len: int = 0) -> None:
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * data_len)


def _shard(path: Path, header: dict[str, Any], data_len: int) -> None:
    _raw_shard(path, json.dumps(header).encode(), data_len)


GOOD = {"w": _t("U8", [2], 0, 2)}


def _ckpt(
    *,
    raw: bytes | None = None,
    header: dict[str, Any] | bytes | None = None,
    data_len: int = 0,
    files: dict[str, Any] | None = None,
    extra: tuple[str, ...] = (),
) -> Callable[[Path], list[str]]:
    """A checkpoint folder `ckpt/` with model.safetensors (raw bytes or a header + zeros) and
    other files (str: text, bytes, dict: a shard header, None: a folder); audit it."""

    def build(root: Path) -> list[str]:
        folder = root / "ckpt"
        folder.mkdir()
        if raw is not None:
            (folder / "model.safetensors").write_bytes(raw)
        elif isinstance(header, bytes):
            _raw_shard(folder / "model.safetensors", header, data_len)
        elif header is not None:
            _shard(folder / "model.safetensors", header, data_len)
        for name, value in (files or {}).items():
            path = folder / name
            if value is None:
                path.mkdir()
            elif isinstance(value, dict):
                _shard(path, value, 2 * len(value))
            elif isinstance(value, bytes):
                path.write_bytes(value)
            else:
                path.write_text(value, encoding="utf-8")
        return ["audit", str(folder), *extra]

    return build


def _index(weight_map: dict[str, str], **metadata: Any) -> str:
    return json.dumps({"metadata": metadata, "weight_map": weight_map})


S1, S2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
TWO = {"a": _t("U8", [2], 0, 2)}, {"b": _t("U8", [2], 0, 2)}


def _sparse_header(root: Path) -> list[str]:
    folder = root / "ckpt"
    folder.mkdir()
    length = 128 * 1024 * 1024
    with open(folder / "model.safetensors", "wb") as handle:
        handle.write(struct.pack("<Q", length))
        handle.truncate(8 + length)  # sparse: no disk, and never read
    return ["audit", str(folder)]


def _link_out(name: str, target_text: str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        outside = root / "outside"
        outside.mkdir()
        (outside / "secret").write_text(target_text, encoding="utf-8")
        folder = root / "ckpt"
        folder.mkdir()
        if name != "model.safetensors":
            _shard(folder / "model.safetensors", GOOD, 2)
        (folder / name).symlink_to(outside / "secret")
        return ["audit", str(folder)]

    return build


def _unreadable_shard(root: Path) -> list[str]:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading (see the "
                    "'shard is a folder' case for a shard that cannot be read)")  # fmt: skip
    folder = root / "ckpt"
    folder.mkdir()
    _shard(folder / "model.safetensors", GOOD, 2)
    (folder / "model.safetensors").chmod(0)
    return ["audit", str(folder)]


def _write_manifest_of_broken(root: Path) -> list[str]:
    build = _ckpt(header=b'{"w": ', extra=("--write-manifest",))
    return build(root)


def _verify(manifest: str | None) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        argv = _ckpt(header=GOOD, data_len=2)(root)
        path = root / "manifest.json"
        if manifest is not None:
            path.write_text(manifest, encoding="utf-8")
        return [*argv, "--verify", str(path)]

    return build


ST = "model.safetensors"
CKPT_CASES = [
    Case("CKPT001 2-byte file", _ckpt(raw=b"\x01\x02"), 1, "too short to be safetensors", (ST, None), "CKPT001"),
    Case("CKPT002 length past the end", _ckpt(raw=struct.pack("<Q", 1000) + b"{}"), 1,
         "header length field says 1000 bytes", (ST, None), "CKPT002"),
    Case("CKPT002 length field of 2^63", _ckpt(raw=struct.pack("<Q", 2**63) + b"{}"), 1,
         "says 9223372036854775808 bytes", (ST, None), "CKPT002"),
    Case("CKPT003 a 128 MiB header", _sparse_header, 1, "over the 100000000-byte cap; not read",
         (ST, None), "CKPT003"),
    Case("CKPT004 not UTF-8", _ckpt(header=b'{"a\xff": 1}'), 1, "not valid UTF-8", (ST, None), "CKPT004"),
    Case("CKPT005 not JSON", _ckpt(header=b'{"w": '), 1, "not valid JSON", (ST, None), "CKPT005"),
    Case("CKPT005 NaN", _ckpt(header=b'{"w": NaN}'), 1, "NaN is not valid JSON", (ST, None), "CKPT005"),
    Case("CKPT005 5,000-digit number", _ckpt(header=b'{"w": {"dtype": "U8", "shape": [1' + b"0" * 5000
                                                  + b'], "data_offsets": [0, 2]}}', data_len=2), 1,
         "Exceeds the limit", (ST, None), "CKPT005"),
    Case("CKPT006 nested 100,000 deep", _ckpt(header=b"[" * 100_000 + b"]" * 100_000), 1,
         "nested too deeply", (ST, None), "CKPT006"),
    Case("CKPT007 a list", _ckpt(header=b"[1, 2]"), 1, "not an object", (ST, None), "CKPT007"),
    Case("CKPT008 metadata of numbers", _ckpt(header={"__metadata__": {"a": 1}}), 1,
         "must map strings to strings", (ST, None), "CKPT008"),
    Case("CKPT009 entry not an object", _ckpt(header={"w": 5}), 1, "not a JSON object", (ST, None), "CKPT009"),
    Case("CKPT009 entry without offsets", _ckpt(header={"w": {"dtype": "U8", "shape": [2]}}), 1,
         "lacks data_offsets", (ST, None), "CKPT009"),
    Case("CKPT010 unknown dtype", _ckpt(header={"w": _t("Q7", [2], 0, 2)}, data_len=2), 1,
         "unknown dtype 'Q7'", (ST, None), "CKPT010"),
    Case("CKPT011 negative dimension", _ckpt(header={"w": _t("U8", [-1], 0, 2)}, data_len=2), 1,
         "non-negative integers, got [-1]", (ST, None), "CKPT011"),
    Case("CKPT012 end before begin", _ckpt(header={"w": _t("U8", [2], 2, 0)}, data_len=2), 1,
         "end 0 is before begin 2", (ST, None), "CKPT012"),
    Case("CKPT013 duplicate tensor", _ckpt(header=b'{"w": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, '
                                                  b'"w": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}',
                                           data_len=2), 1, "appears twice", (ST, None), "CKPT013"),
    Case("CKPT020 size mismatch", _ckpt(header={"w": _t("U8", [3], 0, 2)}, data_len=2), 1,
         "U8 [3] needs 3", (ST, None), "CKPT020"),
    Case("CKPT020 shape of 2^64-1 squared", _ckpt(header={"w": _t("U8", [2**64 - 1, 2**64 - 1], 0, 2)},
                                                  data_len=2), 1, "data_offsets span 2 bytes", (ST, None), "CKPT020"),
    Case("CKPT021 past the end", _ckpt(header={"w": _t("U8", [2], 0, 2)}, data_len=1), 1,
         "data region has only 1 bytes", (ST, None), "CKPT021"),
    Case("CKPT022 overlap", _ckpt(header={"w": _t("U8", [2], 0, 2), "v": _t("U8", [2], 1, 3)}, data_len=3),
         1, "also part of 'w'", (ST, None), "CKPT022"),
    Case("CKPT023 hole", _ckpt(header={"w": _t("U8", [2], 2, 4)}, data_len=4), 1,
         "2 unused bytes before this tensor", (ST, None), "CKPT023"),
    Case("CKPT024 trailing bytes", _ckpt(header={"w": _t("U8", [2], 0, 2)}, data_len=5), 1,
         "3 bytes after the last tensor", (ST, None), "CKPT024"),
    Case("CKPT030 index not JSON", _ckpt(files={"model.safetensors.index.json": "{", S1: TWO[0]}), 1,
         "is not valid JSON", ("model.safetensors.index.json", None), "CKPT030"),
    Case("CKPT031 no weight_map", _ckpt(files={"model.safetensors.index.json": '{"metadata": {}}', S1: TWO[0]}),
         1, "`weight_map` must be an object", ("model.safetensors.index.json", None), "CKPT031"),
    Case("CKPT032 index names a missing shard",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1})}), 1,
         "does not exist", (S1, None), "CKPT032"),
    Case("CKPT032 index names ../ a shard outside",
         _ckpt(files={"model.safetensors.index.json": _index({"a": "../x.safetensors"})}), 1,
         "not a plain relative path", ("x.safetensors", None), "CKPT032"),
    Case("CKPT032 index names an absolute path",
         _ckpt(files={"model.safetensors.index.json": _index({"a": "/etc/passwd"})}), 1,
         "not a plain relative path", ("/etc/passwd", None), "CKPT032"),
    Case("CKPT032 shard links out of the folder", _link_out("model.safetensors", "PRIVATE KEY"), 1,
         "outside the checkpoint; not read", (ST, None), "CKPT032"),
    Case("CKPT033 index lists a tensor the shard lacks",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1, "b": S2, "c": S1}),
                      S1: TWO[0], S2: TWO[1]}), 1,
         "the shard lacks it", (S1, None), "CKPT033"),
    Case("CKPT034 shard holds an unmapped tensor",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1}), S1: {**TWO[0], "z": _t("U8", [2], 2, 4)}}),
         1, "it is not in the index", (S1, None), "CKPT034"),
    Case("CKPT035 tensor in two shards",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1, "b": S2}), S1: TWO[0],
                      S2: {**TWO[1], "a": _t("U8", [2], 2, 4)}}), 1, "also in", (S2, None), "CKPT035"),
    Case("CKPT036 total_size disagrees",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1, "b": S2}, total_size=99),
                      S1: TWO[0], S2: TWO[1]}), 0,
         "says 99 bytes but the tensors add up to 4", ("model.safetensors.index.json", None), "CKPT036"),
    Case("CKPT037 total_size not an integer",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1, "b": S2}, total_size="x"),
                      S1: TWO[0], S2: TWO[1]}), 0,
         "must be a non-negative integer", ("model.safetensors.index.json", None), "CKPT037"),
    Case("CKPT038 stray shard beside model.safetensors", _ckpt(header=GOOD, data_len=2, files={S1: TWO[0]}),
         0, "is ignored", (S1, None), "CKPT038"),
    Case("CKPT039 shard is a folder",
         _ckpt(files={"model.safetensors.index.json": _index({"a": S1}), S1: None}), 1,
         "shard is a directory, not a file; not read", (S1, None), "CKPT039"),
    Case("CKPT039 shard unreadable (chmod 000)", _unreadable_shard, 1, "cannot read shard",
         (ST, None), "CKPT039"),
    Case("CKPT040 config.json not JSON", _ckpt(header=GOOD, data_len=2, files={"config.json": "{"}), 1,
         "is not valid JSON", ("config.json", None), "CKPT040"),
    Case("CKPT040 config.json nested 100,000 deep",
         _ckpt(header=GOOD, data_len=2, files={"config.json": "[" * 100_000 + "]" * 100_000}), 1,
         "not valid JSON", ("config.json", None), "CKPT040"),
    Case("CKPT040 config.json links out of the folder", _link_out("config.json", '{"token": "x"}'), 1,
         "outside the checkpoint; not read", ("config.json", None), "CKPT040"),
    Case("CKPT041 two shards, no index", _ckpt(files={S1: TWO[0], S2: TWO[1]}), 1,
         "no model.safetensors.index.json", ("ckpt", None), "CKPT041"),
    Case("no checkpoint folder", lambda root: ["audit", str(root / "nope")], 2,
         "checkpoint directory does not exist", ("nope", None)),
    Case("a file, not a folder", _ckpt(header=GOOD, data_len=2, extra=()) , 2,
         "is a file, not a checkpoint directory", (ST, None)),
    Case("empty folder", _ckpt(), 2, "no model.safetensors", ("ckpt", None)),
    Case("model.safetensors is a folder", _ckpt(files={ST: None}), 1,
         "shard is a directory, not a file; not read", (ST, None), "CKPT039"),
    Case("--write-manifest of a broken checkpoint", _write_manifest_of_broken, 1,
         "quantization_audit.json not written", None),
    Case("--verify a missing manifest", _verify(None), 2, "manifest not found", ("manifest.json", None)),
    Case("--verify a manifest that is not JSON", _verify("{"), 2, "not a readable JSON manifest",
         ("manifest.json", None)),
    Case("--verify a manifest nested 100,000 deep", _verify("[" * 100_000 + "]" * 100_000), 2,
         "not a usable JSON manifest", ("manifest.json", None)),
    Case("--verify a list", _verify("[]"), 2, "not a JSON object", ("manifest.json", None)),
    Case("--verify a manifest of someone else", _verify('{"format": 1}'), 1,
         "not written by publisher audit", ("manifest.json", None), "AUD001"),
]  # fmt: skip


def _file_not_folder(case: Case) -> Case:
    """'a file, not a folder' audits the shard file itself."""

    def build(root: Path) -> list[str]:
        argv = _ckpt(header=GOOD, data_len=2)(root)
        return [argv[0], str(Path(argv[1]) / ST)]

    return Case(case.id, build, case.exit, case.phrase, case.where, case.code)


CKPT_CASES = [_file_not_folder(c) if c.id == "a file, not a folder" else c for c in CKPT_CASES]


@pytest.mark.parametrize("case", CKPT_CASES, ids=lambda c: c.id)
def test_bad_checkpoint(case: Case, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, root, capsys)


# ---- validation against a spec and quantization configs ----------------------------------


@pytest.fixture
def export_spec(modelopt_dense_spec: Path) -> Path:
    return modelopt_dense_spec


Tensors = dict[str, TensorSpec]
Configs = dict[str, dict[str, Any]]
LAYER0 = "model.language_model.layers.0"


def _retype(t: Tensors) -> None:
    name = f"{LAYER0}.mlp.gate_proj.weight"
    t[name] = TensorSpec(name, "F8_E4M3", (t[name].shape[0], t[name].shape[1] * 2))


def _repack(t: Tensors) -> None:
    name = f"{LAYER0}.mlp.up_proj.weight"
    t[name] = TensorSpec(name, "U8", (t[name].shape[0], t[name].shape[1] * 2))


def _scale_dtype(t: Tensors) -> None:
    name = f"{LAYER0}.mlp.down_proj.weight_scale"
    t[name] = TensorSpec(name, "F32", t[name].shape)


def _hq(c: Configs) -> dict[str, Any]:
    return c["hf_quant_config.json"]["quantization"]


def _cq(c: Configs) -> dict[str, Any]:
    return c["config.json"]["quantization_config"]


def _unexclude_lm_head(c: Configs) -> None:
    _hq(c)["exclude_modules"].remove("lm_head")
    _cq(c)["ignore"].remove("lm_head")


def _exclude_quantized(c: Configs) -> None:
    _hq(c)["exclude_modules"].append(f"{LAYER0}.mlp.gate_proj")
    _cq(c)["ignore"].append(f"{LAYER0}.mlp.gate_proj")


def _group_32(c: Configs) -> None:
    _hq(c)["group_size"] = 32
    for group in _cq(c)["config_groups"].values():
        group["weights"]["group_size"] = group["input_activations"]["group_size"] = 32


def _no_quant_config(c: Configs) -> None:
    del c["hf_quant_config.json"]
    del c["config.json"]["quantization_config"]


def _compressed_tensors_ignore(pattern: str) -> Callable[[Configs], None]:
    def edit(c: Configs) -> None:
        del c["hf_quant_config.json"]
        _cq(c)["quant_method"] = "compressed-tensors"
        _cq(c)["ignore"].append(pattern)

    return edit


def _mixed_table(layers: Any) -> Callable[[Configs], None]:
    """hf_quant_config.json turned MIXED_PRECISION with `layers` as its quantized_layers."""

    def edit(c: Configs) -> None:
        _hq(c).update(quant_algo="MIXED_PRECISION", quantized_layers=layers)

    return edit


def _fp8_without_blocks(c: Configs) -> None:
    del c["hf_quant_config.json"]
    c["config.json"]["quantization_config"] = {
        "quant_method": "fp8",
        "activation_scheme": "dynamic",
    }


@dataclass(frozen=True)
class VariantCase:
    """A variant of the genuine export, validated against its spec (or audited)."""

    id: str
    command: str  # validate | audit
    exit: int
    code: str
    phrase: str
    where: str  # the file name the finding names
    edit: Callable[[Tensors], None] | None = None
    edit_configs: Callable[[Configs], None] | None = None
    spec_edit: tuple[str, str] | None = None


def _add(
    name: str, dtype: str = "BF16", shape: tuple[int, ...] = (4,)
) -> Callable[[Tensors], None]:
    return lambda t: t.__setitem__(name, TensorSpec(name, dtype, shape))


def _drop(name: str) -> Callable[[Tensors], None]:
    return lambda t: t.__delitem__(name)


VARIANT_CASES = [
    VariantCase("VAL001 FP8 weights in an NVFP4 module", "validate", 1, "VAL001", "not packed U8", ST, _retype),
    VariantCase("VAL002 a scale missing", "validate", 1, "VAL002", "weight_scale_2", ST,
                _drop(f"{LAYER0}.mlp.down_proj.weight_scale_2")),
    VariantCase("VAL003 a stray tensor", "validate", 1, "VAL003", "belongs to no module", ST,
                _add(f"{LAYER0}.mlp.stray")),
    VariantCase("VAL003 a look-alike name with a carriage return", "validate", 1, "VAL003",
                "gate_proj.weight\\r", ST, _add(f"{LAYER0}.mlp.gate_proj.weight\r")),
    VariantCase("VAL003 a name with ESC and a newline, printed escaped", "validate", 1, "VAL003",
                "\\x1b[31mred\\nnext", ST, _add(f"{LAYER0}.\x1b[31mred\nnext")),
    VariantCase("VAL004 a scale of the wrong dtype", "validate", 1, "VAL004", "F32", ST, _scale_dtype),
    VariantCase("VAL005 bad packing", "validate", 1, "VAL005", "up_proj.weight", ST, _repack),
    VariantCase("VAL006 a module missing", "validate", 1, "VAL006", "is not in the checkpoint", "variant",
                _drop(f"{LAYER0.replace('0', '1')}.linear_attn.A_log")),
    VariantCase("VAL010 lm_head not excluded", "validate", 1, "VAL010", "does not exclude it",
                "config.json", edit_configs=_unexclude_lm_head),
    VariantCase("VAL011 a quantized module excluded", "validate", 1, "VAL011", "excludes it",
                "config.json", edit_configs=_exclude_quantized),
    VariantCase("VAL012 group size 32", "validate", 1, "VAL012", "group_size is 32", "config.json",
                edit_configs=_group_32),
    VariantCase("VAL013 no quantization config", "validate", 1, "VAL013",
                "no quantization config", "config.json", edit_configs=_no_quant_config),
    VariantCase("VAL020 config.json disagrees", "validate", 1, "VAL020",
                "num_key_value_heads is 4 but the spec says 2", "config.json",
                edit_configs=lambda c: c["config.json"]["text_config"].__setitem__("num_key_value_heads", 4)),
    VariantCase("VAL030 MTP promised, none shipped", "validate", 1, "VAL030", "no mtp.* tensors", "",
                spec_edit=("  lm_output: separate\n",
                           "  lm_output: separate\n  mtp: {trained: true, shipped: true}\n")),
    VariantCase("VAL031 undeclared MTP tensors", "validate", 0, "VAL031", "mtp.* tensors are in the checkpoint", "",
                _add("mtp.fc.weight", "BF16", (64, 128))),
    VariantCase("QCFG001 quantization_config a list", "audit", 1, "QCFG001", "must be an object",
                "config.json", edit_configs=lambda c: c["config.json"].__setitem__("quantization_config", [])),
    VariantCase("QCFG002 no quantization key", "audit", 1, "QCFG002", "needs a `quantization` object",
                "hf_quant_config.json", edit_configs=lambda c: c["hf_quant_config.json"].pop("quantization")),
    VariantCase("QCFG003 group size a string", "audit", 1, "QCFG003", "got '16'",
                "hf_quant_config.json", edit_configs=lambda c: _hq(c).__setitem__("group_size", "16")),
    VariantCase("QCFG003 quantized_layers a list", "audit", 1, "QCFG003",
                "must be an object of module name", "hf_quant_config.json",
                edit_configs=_mixed_table([f"{LAYER0}.mlp.gate_proj"])),
    VariantCase("QCFG002 a quantized_layers entry without quant_algo", "audit", 1, "QCFG002",
                f"entry '{LAYER0}.mlp.gate_proj' has no quant_algo", "hf_quant_config.json",
                edit_configs=_mixed_table({f"{LAYER0}.mlp.gate_proj": {"group_size": 16}})),
    VariantCase("QCFG004 invalid regex", "audit", 1, "QCFG004", "not a valid regular expression",
                "config.json", edit_configs=_compressed_tensors_ignore("re:(a")),
    VariantCase("QCFG004 exponential regex", "audit", 1, "QCFG004", "exponential time",
                "config.json", edit_configs=_compressed_tensors_ignore("re:(.*)*x")),
    VariantCase("QCFG005 unknown algorithm", "audit", 1, "QCFG005", "'INT3_MAGIC' is not one",
                "hf_quant_config.json", edit_configs=lambda c: _hq(c).__setitem__("quant_algo", "INT3_MAGIC")),
    VariantCase("QCFG006 the two files disagree", "audit", 1, "QCFG006", "group_size 32 vs 16",
                "config.json",
                edit_configs=lambda c: [g["weights"].__setitem__("group_size", 32)
                                        for g in _cq(c)["config_groups"].values()]),
    VariantCase("QCFG007 NVFP4 group of 32", "audit", 1, "QCFG007", "blocks of 16 values",
                "hf_quant_config.json", edit_configs=lambda c: _hq(c).__setitem__("group_size", 32)),
    VariantCase("QCFG008 FP8 without block size", "audit", 0, "QCFG008", "no weight_block_size",
                "config.json", edit_configs=_fp8_without_blocks),
    VariantCase("QCFG009 only hf_quant_config.json", "audit", 0, "QCFG009",
                "config.json has no quantization_config", "config.json",
                edit_configs=lambda c: c["config.json"].pop("quantization_config")),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", VARIANT_CASES, ids=lambda c: c.id)
def test_bad_checkpoint_against_its_spec(
    case: VariantCase,
    root: Path,
    export_spec: Path,
    modelopt_dense_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = root / "spec.yaml"
    text = export_spec.read_text(encoding="utf-8")
    if case.spec_edit is not None:
        text = text.replace(*case.spec_edit)
    spec.write_text(text, encoding="utf-8")
    if case.edit is None and case.edit_configs is None:
        folder = modelopt_dense_dir
    else:
        folder = write_variant(modelopt_dense_dir, root / "variant", case.edit, case.edit_configs)
    argv = (
        ["validate", str(spec), str(folder)]
        if case.command == "validate"
        else ["audit", str(folder)]
    )

    def build(_: Path) -> list[str]:
        return argv

    check_case(
        Case(case.id, build, case.exit, case.phrase, (case.where, None), case.code), root, capsys
    )


# ---- command-line usage -------------------------------------------------------------------


def _existing(name: str, text: str, *argv: str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        (root / "ckpt").mkdir()
        _shard(root / "ckpt" / "model.safetensors", GOOD, 2)
        (root / name).write_text(text, encoding="utf-8")
        (root / "spec.yaml").write_text(BASE_SPEC, encoding="utf-8")
        return [a.replace("ROOT", str(root)) for a in argv]

    return build


def _spec_and(*argv: str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        (root / "spec.yaml").write_text(BASE_SPEC, encoding="utf-8")
        (root / "out").mkdir()
        return [a.replace("ROOT", str(root)) for a in argv]

    return build


CLI_CASES = [
    Case("unknown command", lambda r: ["publish", "x"], 2, "invalid choice: 'publish'"),
    Case("no command", lambda r: [], 2, "usage: publisher"),
    Case("missing argument", lambda r: ["render"], 2, "the following arguments are required: SPEC"),
    Case("bad --format", lambda r: ["lint", "--format", "xml"], 2, "invalid choice: 'xml'"),
    Case("bad --port", lambda r: ["preview", "x.yaml", "--port", "eighty"], 2, "invalid int value"),
    Case("port out of range", lambda r: ["hub", "serve", "--port", "70000", "--data", str(r / "d")],
         2, "--port must be between 0 and 65535"),
    Case("hub without an action", lambda r: ["hub"], 2, "required: ACTION"),
    Case("validate with a folder and --repo", _spec_and("validate", "ROOT/spec.yaml", "ROOT/out",
                                                       "--repo", "org/x"), 2,
         "give a checkpoint folder or --repo ID (one of them)"),
    Case("validate with neither", _spec_and("validate", "ROOT/spec.yaml"), 2,
         "give a checkpoint folder or --repo ID"),
    Case("unknown finding code", lambda r: ["codes", "NOPE001"], 2, "no finding code NOPE001"),
    Case("push --tag with --create-pr", _spec_and("push", "ROOT/spec.yaml", "--tag", "v1.0.0",
                                                  "--create-pr", "--dry-run"), 2,
         "--tag and --create-pr do not go together"),
    Case("push --revision given a ref", _spec_and("push", "ROOT/spec.yaml", "--revision",
                                                  "refs/heads/x", "--dry-run"), 2,
         "takes a branch name"),
    Case("push to an invalid repo id", _spec_and("push", "ROOT/spec.yaml", "--repo", "bad repo/x",
                                                 "--dry-run"), 2, "invalid repository id"),
    Case("push a checkpoint folder that does not exist", _spec_and("push", "ROOT/spec.yaml",
                                                                   "ROOT/nope", "--dry-run"), 2,
         "checkpoint folder not found", ("nope", None)),
    Case("init over an existing file", _existing("my.yaml", "mine\n", "init", "ROOT/ckpt", "-o",
                                                 "ROOT/my.yaml"), 2, "already exists",
         ("my.yaml", None)),
    Case("render -o a folder", _spec_and("render", "ROOT/spec.yaml", "-o", "ROOT/out"), 2,
         "is a directory", ("out", None)),
    Case("render over a hand-written card", _existing("README.md", "# mine\n", "render",
                                                      "ROOT/spec.yaml", "-o", "ROOT/README.md"), 2,
         "pass --force to replace it", ("README.md", None)),
    Case("--write-manifest for a Hub repo id", lambda r: ["audit", "no-such-folder", "--write-manifest"],
         2, "checkpoint directory does not exist", ("no-such-folder", None)),
]  # fmt: skip


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: c.id)
def test_bad_usage(case: Case, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_case(case, root, capsys)


# ---- the Hub: push and audit REPO_ID against the local Hub with faults ----------------------


@dataclass(frozen=True)
class HubCase:
    id: str
    command: str  # push | audit
    phrase: str
    status: int | str | None = None  # HTTP status, "drop" (connection reset) or "timeout"
    path: str = r"/commit/main$"
    method: str = "POST"
    token: str | None = DEMO_TOKEN
    missing_repo: bool = False


HUB_CASES = [
    HubCase("push: wrong token (401)", "push", "refused the credentials (HTTP 401)", token=FAKE_TOKEN),
    HubCase("push: 403 on the commit", "push", "refused this token access (HTTP 403)", 403),
    HubCase("push: 404 on the commit", "push", "(HTTP 404) while committing", 404),
    HubCase("push: 409 on the commit", "push", "(HTTP 409) while committing", 409),
    HubCase("push: 412 on the commit", "push", "another commit landed after the plan", 412),
    HubCase("push: 429 on the commit", "push", "rate-limiting requests (HTTP 429)", 429),
    HubCase("push: 500 on the commit", "push", "failed with HTTP 500 while committing", 500),
    HubCase("push: 503 on the commit", "push", "failed with HTTP 503 while committing", 503),
    HubCase("push: connection reset on the commit", "push", "the connection was lost", "drop"),
    HubCase("push: connection reset reading the repo", "push", "the connection was lost", "drop",
            path=r"^/api/models/", method="GET"),
    HubCase("push: timeout", "push", "the connection timed out", "timeout"),
    HubCase("audit: wrong token (401)", "audit", "refused the credentials (HTTP 401)", token=FAKE_TOKEN),
    HubCase("audit: 403", "audit", "(HTTP 403) while reading", 403, r"^/api/models/", "GET"),
    HubCase("audit: unknown repository (404)", "audit", "not found, or not visible", missing_repo=True),
    HubCase("audit: 429", "audit", "rate-limiting requests (HTTP 429)", 429, r"^/api/models/", "GET"),
    HubCase("audit: 500", "audit", "failed with HTTP 500 while reading", 500, r"^/api/models/", "GET"),
    HubCase("audit: 502", "audit", "failed with HTTP 502 while reading", 502, r"^/api/models/", "GET"),
    HubCase("audit: connection reset", "audit", "the connection was lost", "drop", r"^/api/models/", "GET"),
    HubCase("audit: timeout", "audit", "the connection timed out", "timeout"),
]  # fmt: skip


@pytest.mark.parametrize("case", HUB_CASES, ids=lambda c: c.id)
def test_hub_failure(
    case: HubCase,
    root: Path,
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo_id = hub_repo_id.rstrip("-")
    if not case.missing_repo:
        hub_api.create_repo(repo_id)
        if case.command == "audit":
            (root / "w.safetensors").write_bytes(struct.pack("<Q", 2) + b"{}")
            hub_api.upload_file(path_or_fileobj=str(root / "w.safetensors"),
                                path_in_repo="model.safetensors", repo_id=repo_id)  # fmt: skip
            (root / "w.safetensors").unlink()
    commits = (
        [c.commit_id for c in hub_api.list_repo_commits(repo_id)] if not case.missing_repo else []
    )
    if case.token is None:
        monkeypatch.delenv("HF_TOKEN", raising=False)
    else:
        monkeypatch.setenv("HF_TOKEN", case.token)
    hub.requests.clear()
    if isinstance(case.status, int):
        hub.faults.add(method=case.method, path_regex=case.path, status=case.status, times=1)
    elif case.status == "drop":
        hub.faults.add(method=case.method, path_regex=case.path, action="drop", times=1)
    elif case.status == "timeout":
        hub.latency = 1.5
    (root / "spec.yaml").write_text(BASE_SPEC, encoding="utf-8")
    argv = (
        ["push", str(root / "spec.yaml"), "--repo", repo_id]
        if case.command == "push"
        else ["audit", repo_id]
    )
    # a timeout: every answer 1.5 s late, PUBLISHER_HUB_TIMEOUT 0.5 s (read once per process)
    env = {"PUBLISHER_HUB_TIMEOUT": "0.5", "HF_TOKEN": case.token or ""}
    out, err = check_case(Case(case.id, lambda _: argv, 3, case.phrase, None), root, capsys,
                          env if case.status == "timeout" else None)  # fmt: skip
    hub.latency = 0.0
    assert err.startswith("publisher: error: ") and len(err.strip().splitlines()) == 1
    assert FAKE_TOKEN not in out + err and DEMO_TOKEN not in out + err
    if not case.missing_repo:
        hub.faults.clear()
        assert [c.commit_id for c in hub_api.list_repo_commits(repo_id)] == commits
    if case.command == "audit":
        assert not [r for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


def test_catalogue_size() -> None:
    """Issue 7 asks for at least 60 catalogued bad inputs; this file holds them by area."""
    sizes = {
        "specs": len(SPEC_CASES),
        "templates": len(TEMPLATE_CASES),
        "cards": len(CARD_CASES),
        "checkpoint files": len(CKPT_CASES),
        "validation and quant configs": len(VARIANT_CASES),
        "usage": len(CLI_CASES),
        "hub": len(HUB_CASES),
    }
    assert sum(sizes.values()) >= 60, sizes
    ids = [c.id for c in SPEC_CASES + TEMPLATE_CASES + CARD_CASES + CKPT_CASES + CLI_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.slow
def test_a_stray_tensor_under_a_known_module_is_reported(
    root: Path, export_spec: Path, modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = write_variant(
        modelopt_dense_dir, root / "variant", _add(f"{LAYER0}.mlp.gate_proj.stray")
    )
    code, out, _ = run_cli(["validate", str(export_spec), str(variant)], capsys)
    assert code == 1 and "VAL003" in out and "gate_proj.stray" in out
