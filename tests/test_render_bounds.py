"""What `render` reads and writes: bounded templates, confined `extends`, template and
override names that never reach a secret, and only regular files replaced (issue 11)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from publisher.cli import main
from tests.checkpoint_variants import project_with_templates

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_SPEC = (REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8")
TOKEN = "hf_" + "Q" * 34
OVERRIDE = "card:\n  overrides: {license: cards/license.md.j2}\n"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _project(root: Path, license_partial: str) -> Path:
    spec = project_with_templates(root)
    (root / "cards" / "license.md.j2").write_text(license_partial, encoding="utf-8")
    spec.write_text(BASE_SPEC + OVERRIDE, encoding="utf-8")
    return spec


# ---- templates are bounded ------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "{{ '%999999999s'|format('a') }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'|indent(10**9, true) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '%999999999s' % 'a' }}",
        "{{ '{:>999999999}'.format('a') }}",
        "{{ ('x' * 999999)|replace('x', 'yy') }}",
        "{{ range(100000)|join('x' * 1000) }}",
        "{% for i in range(100000) %}{{ 'x' * 999999 }}{% endfor %}",
        "{% set ns = namespace(x='ab') %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}"
        "{% endfor %}{{ ns.x|length }}",
    ],
)
def test_a_template_that_would_make_a_huge_card_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expression: str
) -> None:
    spec = _project(tmp_path, "## License\n\n" + expression + "\n")
    out = tmp_path / "README.md"

    code, text = _run(capsys, "render", str(spec), "-o", str(out))

    assert code == 2, text
    assert "template refused by the sandbox" in text and "larger than" in text
    assert ".md.j2:" in text or "card would be larger" in text  # names the template
    assert not out.exists()


def test_ordinary_formatting_still_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial = (
        "## License\n\n[{{ '%5s'|format('a') }}] [{{ 'ab'|center(6) }}] [{{ '%03d' % 7 }}] "
        "[{{ '{:>4}'.format('b') }}] [{{ [1, 2]|join(', ') }}] [{{ 'a' + 'b' }}]\n"
    )
    spec = _project(tmp_path, partial)

    code, text = _run(capsys, "render", str(spec))

    assert code == 0, text
    assert "[    a] [  ab  ] [007] [   b] [1, 2] [ab]" in text


# ---- templates and overrides never read secret files ----------------------------------------


@pytest.mark.parametrize(
    ("partial", "override"),
    [
        ("{% include '.env' %}", None),
        ("{% include 'notes/id_rsa' %}", None),
        ("{% include 'config.yaml' %}", None),
        (None, ".env"),
        (None, "secrets.md.j2"),
    ],
)
def test_templates_and_overrides_never_read_a_secret_in_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partial: str | None, override: str | None
) -> None:
    spec = _project(tmp_path, "## License\n\n" + (partial or "ours") + "\n")
    for name in (".env", "notes/id_rsa", "config.yaml", "secrets.md.j2"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"HF_TOKEN={TOKEN}\n", encoding="utf-8")
    if override is not None:
        spec.write_text(BASE_SPEC + f"card:\n  overrides: {{license: {override}}}\n")

    code, text = _run(capsys, "render", str(spec))

    assert code == 2, text
    assert TOKEN not in text
    assert "template not found" in text


# ---- extends stays inside the repository ----------------------------------------------------


def _family_outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    family = outside / "family.yaml"
    family.write_text(f"summary: {TOKEN}\n", encoding="utf-8")
    return family


@pytest.mark.parametrize("how", ["absolute", "dotdot", "link"])
def test_extends_never_leaves_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    family = _family_outside(tmp_path)
    root = tmp_path / "repo"
    root.mkdir()
    spec = project_with_templates(root)
    ref = {"absolute": str(family), "dotdot": "../../outside/family.yaml", "link": "fam.yaml"}[how]
    if how == "link":
        (spec.parent / "fam.yaml").symlink_to(family)
    spec.write_text(f"extends: {ref}\n" + BASE_SPEC.replace("summary:", "old_summary:"))

    code, text = _run(capsys, "render", str(spec))

    assert code == 2, text
    assert "SPEC004" in text and "leaves the repository" in text
    assert TOKEN not in text


def test_extends_may_climb_within_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project_with_templates(tmp_path)
    (tmp_path / "families").mkdir()
    (tmp_path / "families" / "base.yaml").write_text(BASE_SPEC, encoding="utf-8")
    spec.write_text("extends: ../families/base.yaml\nname: Tiny-2B\n", encoding="utf-8")

    code, text = _run(capsys, "render", str(spec))

    assert code == 0, text
    assert "# Tiny-2B" in text


@pytest.mark.parametrize("content", ["", "null\n", "# only a comment\n"])
def test_an_empty_spec_is_unusable_like_a_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(content, encoding="utf-8")

    code, text = _run(capsys, "lint", str(spec))

    assert code == 2, text
    assert "SPEC007" in text and "the spec is empty" in text


# ---- only regular files are replaced --------------------------------------------------------


def test_render_never_replaces_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "README.md"
    os.mkfifo(fifo)

    code, text = _run(capsys, "render", str(REPO_ROOT / "tests/specs/minimal.yaml"), "-o",
                      str(fifo), "--force")  # fmt: skip

    assert code == 2, text
    assert "a FIFO (named pipe), not a regular file" in text
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_render_never_replaces_a_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`-o /dev/full --force` as root replaced the device node; a link to a device stands in
    for it here (the test must not risk /dev itself)."""
    link = tmp_path / "README.md"
    link.symlink_to("/dev/null")

    code, text = _run(capsys, "render", str(REPO_ROOT / "tests/specs/minimal.yaml"), "-o",
                      str(link), "--force")  # fmt: skip

    assert code == 2, text
    assert "a character device, not a regular file" in text
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)


def test_render_through_a_link_to_a_card_replaces_the_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "cards" / "README.md"
    card.parent.mkdir()
    card.write_text("old\n")
    link = tmp_path / "README.md"
    link.symlink_to(card)

    code, text = _run(capsys, "render", str(REPO_ROOT / "tests/specs/minimal.yaml"), "-o",
                      str(link), "--force")  # fmt: skip

    assert code == 0, text
    assert link.is_symlink()
    assert "# Tiny-2B" in card.read_text()


def test_schema_output_never_replaces_a_fifo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "schema.json"
    os.mkfifo(fifo)

    code, text = _run(capsys, "schema", "-o", str(fifo))  # used to block, waiting for a reader

    assert code == 2, text
    assert "a FIFO (named pipe), not a regular file" in text
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
