"""Score check-card on the corpus: recall over planted defects, false alarms on clean cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from publisher.card.check import check_card_file, facts_from_spec
from publisher.card.truth import truth_from_spec
from publisher.findings import Finding
from publisher.spec.loader import load_spec

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


@dataclass
class Score:
    planted: int = 0
    found: int = 0
    missed: list[str] = field(default_factory=list)
    clean_cards: int = 0
    defect_cards: int = 0
    false_alarms: list[str] = field(default_factory=list)
    by_code: dict[str, list[int]] = field(default_factory=dict)  # code → [planted, found]

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0


def _findings(entry: dict[str, object], with_spec: bool = True) -> list[Finding]:
    card = HERE / str(entry["card"])
    spec_path = entry.get("spec")
    if not spec_path or not with_spec:
        return check_card_file(card)
    spec = load_spec(REPO / str(spec_path)).spec
    assert spec is not None
    return check_card_file(card, facts_from_spec(spec), truth_from_spec(spec))


def _line_of(card: Path, snippet: str) -> int:
    for number, line in enumerate(card.read_text(encoding="utf-8").splitlines(), start=1):
        if snippet in line:
            return number
    raise AssertionError(f"{card.name}: no line holds {snippet!r}")


def score(with_spec: bool = True) -> Score:
    """The corpus scored; `with_spec=False` checks every card alone (no spec, no truth)."""
    manifest = yaml.safe_load((HERE / "manifest.yaml").read_text(encoding="utf-8"))
    result = Score()
    for entry in manifest["clean"]:
        result.clean_cards += 1
        for f in _findings(entry, with_spec):
            result.false_alarms.append(f"{entry['card']}:{f.location.line} {f.code} {f.message}")
    for entry in manifest["defects"]:
        result.defect_cards += 1
        got = {(f.code, f.location.line) for f in _findings(entry, with_spec)}
        for expect in entry["expect"]:
            code = expect["code"]
            line = _line_of(HERE / entry["card"], expect["at"])
            counts = result.by_code.setdefault(code, [0, 0])
            result.planted += 1
            counts[0] += 1
            if (code, line) in got:
                result.found += 1
                counts[1] += 1
            else:
                result.missed.append(f"{entry['card']}:{line} {code}")
    return result
