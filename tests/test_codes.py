"""The catalogue of finding codes: complete, unique, documented."""

from __future__ import annotations

import re
from pathlib import Path

from publisher.cli import main
from publisher.codes import all_codes, errors_markdown


def test_docs_errors_md_is_current(repo_root: Path) -> None:
    committed = (repo_root / "docs" / "errors.md").read_text(encoding="utf-8")
    assert committed == errors_markdown(), "run: publisher codes --format markdown > docs/errors.md"


def test_codes_are_unique_and_well_formed() -> None:
    codes = [row.code for row in all_codes()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{3,4}\d{3}", code) for code in codes)


def test_every_code_the_source_emits_is_catalogued(repo_root: Path) -> None:
    known = {row.code for row in all_codes()}
    emitted: set[str] = set()
    for path in (repo_root / "publisher").rglob("*.py"):
        emitted |= set(
            re.findall(
                r'"((?:SPEC|CARD|CKPT|QCFG|VAL|AUD|PUSH|SIGN)\d{3})"',
                path.read_text(encoding="utf-8"),
            )
        )
    assert emitted - known == set()


def test_codes_command_explains_one_code(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["codes", "SPEC030"]) == 0
    assert "derived from the architecture" in capsys.readouterr().out
    assert main(["codes", "NOPE999"]) == 2


def test_every_code_says_what_to_do() -> None:
    from publisher.fixes import FIXES

    rows = all_codes()
    assert [row.code for row in rows if not row.fix.strip()] == []
    assert set(FIXES) - {row.code for row in rows} == set()
