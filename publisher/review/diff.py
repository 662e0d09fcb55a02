"""Render each spec's card and compare it with the card that stands now."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from publisher.card.card_changes import Change, card_changes
from publisher.card.compare import CardDiff
from publisher.findings import Finding
from publisher.review.standing import HUB, Against, RevisionTree, file_card, hub_card


@dataclass
class SpecDiff:
    """One spec's card: what stands (`diff.old`), what it renders to now (`diff.new`) and what
    that changes. `findings` hold why a spec could not be rendered (then `diff` is None)."""

    spec: Path
    repo_id: str | None
    against: str
    diff: CardDiff | None = None
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.diff is not None and self.diff.changed

    @property
    def renders(self) -> bool:
        return self.diff is not None


@dataclass
class ReviewResult:
    against: Against
    specs: list[SpecDiff]

    @property
    def changed(self) -> list[SpecDiff]:
        return [s for s in self.specs if s.changed]

    @property
    def broken(self) -> list[SpecDiff]:
        return [s for s in self.specs if not s.renders]


def review(
    paths: list[Path],
    against: str = "hub",
    *,
    changed_since: str | None = None,
    token: str | None = None,
) -> ReviewResult:
    """`publisher diff`: the specs under `paths` (only those a change since `changed_since`
    affects, when given), each card compared with `against` (hub, a git revision or a file)."""
    from publisher.errors import UsageError
    from publisher.release.tags import repo_root
    from publisher.review.standing import parse_against
    from publisher.spec.collect import collect_spec_paths

    specs, missing = collect_spec_paths(paths)
    if missing:
        raise UsageError(missing[0].message, where=str(missing[0].location))
    root = repo_root(specs[0].parent if specs else Path.cwd())
    if changed_since:
        from publisher.review.affected import affected_specs, changed_paths

        specs = affected_specs(specs, changed_paths(root, changed_since))
    target = parse_against(against, root)
    if target.kind == "file" and len(specs) > 1:
        raise UsageError("--against FILE compares one card", fix="name one spec")
    return diff_specs(specs, target, token=token)


def diff_specs(specs: list[Path], against: Against, *, token: str | None = None) -> ReviewResult:
    """Render every spec and compare its card with `against` (the Hub, a revision or a file)."""
    from publisher.card.pipeline import render_spec
    from publisher.release.tags import repo_root

    if not specs:
        return ReviewResult(against, [])
    tree = RevisionTree(repo_root(specs[0].parent), against.commit) if against.commit else None
    try:
        results = []
        for spec in specs:
            rendered = render_spec(spec)
            repo_id = rendered.spec.repo_id if rendered.spec is not None else None
            result = SpecDiff(spec, repo_id, against.label, findings=list(rendered.findings))
            if rendered.text is not None and rendered.spec is not None:
                old, label = _standing(spec, rendered.spec.repo_id, rendered.spec.hub.private,
                                       against, tree, token)  # fmt: skip
                result.diff = CardDiff(label, f"{spec} (rendered)", old, rendered.text)
                result.changes = card_changes(old, rendered.text)
            results.append(result)
        return ReviewResult(against, results)
    finally:
        if tree is not None:
            tree.close()


def _standing(
    spec: Path, repo_id: str, private: bool, against: Against, tree: RevisionTree | None,
    token: str | None,
) -> tuple[str | None, str]:  # fmt: skip
    if against.kind == HUB:
        return hub_card(repo_id, private=private, token=token), f"{repo_id}/README.md (Hub)"
    if against.kind == "file":
        return file_card(Path(against.value)), against.value
    assert tree is not None
    from publisher.card.pipeline import render_spec

    old_spec = tree.spec_at(spec)
    label = f"{spec} at {against.value}"
    if old_spec is None:
        return None, label
    return render_spec(old_spec).text, label
