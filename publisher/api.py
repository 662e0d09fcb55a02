"""publisher as a library: the steps the CLI runs, for scripts and notebooks.

    from pathlib import Path
    import publisher.api as pub

    spec = pub.lint(Path("model_specs/My-Model-NVFP4.yaml"))     # LoadedSpec
    print(pub.format_findings(spec.findings))
    card = pub.render_card(spec.path)                              # RenderResult (.text)
    report = pub.validate(spec, Path("export/"))                   # ValidationReport
    audit = pub.audit(Path("export/"))                             # AuditResult
    result = pub.push(spec.path, Path("export/"), dry_run=True)   # PushResult (.plan)

Every function returns a typed result; its `findings` are `publisher.findings.Finding`s (a
stable code, a message, a location, a severity). Unusable input raises a
`publisher.errors.PublisherError` subclass naming the file and the fix; each carries the exit
code the CLI uses (`error.exit_code`). The CLI, `publisher release` and `publisher demo` call
these functions. Importing this module is cheap: each function imports what it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from publisher.errors import SpecError
from publisher.findings import Finding, has_errors

if TYPE_CHECKING:
    from publisher.card.facts import CheckpointFacts
    from publisher.card.pipeline import RenderResult
    from publisher.card.truth import ModelTruth
    from publisher.checkpoint.audit import AuditResult
    from publisher.checkpoint.validate import ValidationReport
    from publisher.hub.push_types import Progress, PushResult
    from publisher.provenance.keys import SigningMaterial, TrustAnchor
    from publisher.provenance.sign import SignResult
    from publisher.provenance.verify import Verification
    from publisher.review.diff import ReviewResult
    from publisher.spec.loader import LoadedSpec

ReportFormat = Literal["text", "json", "markdown"]

# The result types, importable from here for type hints (loaded on first use).
_RESULT_TYPES = {
    "LoadedSpec": "publisher.spec.loader",
    "RenderResult": "publisher.card.pipeline",
    "ValidationReport": "publisher.checkpoint.validate",
    "AuditResult": "publisher.checkpoint.audit",
    "PushResult": "publisher.hub.push_types",
}


def __getattr__(name: str) -> object:
    if name in _RESULT_TYPES:
        import importlib

        return getattr(importlib.import_module(_RESULT_TYPES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuditResult",
    "Finding",
    "LoadedSpec",
    "PushResult",
    "RenderResult",
    "ReportFormat",
    "ValidationReport",
    "audit",
    "check_card",
    "diff_cards",
    "format_audit_manifest",
    "format_audit_page",
    "format_card_diff",
    "format_findings",
    "format_validation",
    "has_errors",
    "lint",
    "load_spec",
    "precision_map",
    "push",
    "render_card",
    "validate",
    "validate_on_hub",
]


# ---- specs and cards ----------------------------------------------------------------------


def load_spec(path: Path) -> LoadedSpec:
    """Read a spec (YAML, `extends:` merged) and check it against the schema; problems with the
    file become findings (`.findings`), `.spec` is the ModelSpec when it is valid."""
    from publisher.spec.loader import load_spec as load

    return load(Path(path))


def lint(path: Path) -> LoadedSpec:
    """`load_spec` plus every lint check: layout, derived counts, Hub metadata, paths."""
    from publisher.spec.lint import lint_path

    return lint_path(Path(path))


def render_card(spec_path: Path, checkpoint: Path | None = None) -> RenderResult:
    """Lint the spec and, when it has no errors, render its card (`.text`; None otherwise).
    With `checkpoint`, the card states the checkpoint's measured size."""
    from publisher.card.pipeline import checkpoint_facts, render_spec

    facts: CheckpointFacts | None = checkpoint_facts(Path(checkpoint)) if checkpoint else None
    return render_spec(Path(spec_path), checkpoint=facts)


def check_card(
    card: Path | None,
    spec: Path | None = None,
    *,
    checkpoint: Path | None = None,
    repo: str | None = None,
    token: str | None = None,
) -> list[Finding]:
    """Findings (CARD codes) for a model card. With `spec`, `checkpoint` (a folder: config.json
    and headers) or `repo` (`ID[@REV]` on the Hub: README.md, config.json and headers by range
    requests), every architecture and format claim is also checked against them, and each
    finding names where the true value comes from. `card` None with `repo`: the repo's
    README.md."""
    from publisher.card.check import check_card as check_text
    from publisher.card.check import check_card_file, facts_from_spec
    from publisher.card.truth import combine, truth_from_spec
    from publisher.errors import InputError

    if card is None and not repo:
        raise InputError("give a card file, or --repo ID to check a repository's README.md")
    facts = None
    truths: list[ModelTruth] = []
    if spec is not None:
        loaded = _usable_spec(Path(spec))
        facts = facts_from_spec(loaded.spec if loaded.spec is not None else loaded.data)
        if loaded.spec is not None:
            truths.append(truth_from_spec(loaded.spec))
    if checkpoint is not None:
        truths.append(_checkpoint_truth(Path(checkpoint)))
    readme = None
    if repo:
        repo_truth, readme = _repo_truth(repo, token)
        truths.append(repo_truth)
    truth = combine(truths) if truths else None
    if card is not None:
        return check_card_file(Path(card), facts, truth)
    if readme is None:
        raise InputError("the repository has no README.md", where=f"hf://{repo}")
    text, where = readme
    return check_text(text, file=where, facts=facts, truth=truth)


def _usable_spec(spec: Path) -> LoadedSpec:
    if not spec.is_file():
        raise SpecError("no such spec file", where=str(spec))
    loaded = load_spec(spec)
    if loaded.unusable or (loaded.spec is None and loaded.data is None):
        first = loaded.findings[0] if loaded.findings else None
        message = f"{first.code}: {first.message}" if first else "cannot be loaded"
        raise SpecError(message, where=str(spec), fix="run `publisher lint` on it")
    return loaded


def _checkpoint_truth(folder: Path) -> ModelTruth:
    from publisher.card.truth import truth_from_checkpoint
    from publisher.checkpoint.reader import read_checkpoint

    inventory, _ = read_checkpoint(folder)
    return truth_from_checkpoint(inventory, str(folder))


def _repo_truth(target: str, token: str | None) -> tuple[ModelTruth, tuple[str, str] | None]:
    """Truth from a Hub repository's config.json and headers, and its README.md text."""
    from publisher.card.remote_card import read_remote_text
    from publisher.card.truth import truth_from_checkpoint
    from publisher.hub.remote import read_remote_checkpoint

    repo_id, _, revision = target.partition("@")
    inventory, _ = read_remote_checkpoint(repo_id, revision or None, token=token)
    where = f"hf://{target}"
    text = read_remote_text(repo_id, "README.md", revision or None, token=token)
    truth = truth_from_checkpoint(inventory, where)
    return truth, ((text, f"{where}/README.md") if text is not None else None)


def diff_cards(
    specs: list[Path], against: str = "hub", *, changed_since: str | None = None
) -> ReviewResult:
    """What each spec's card would change against the README the Hub serves (`hub`), the card
    a git revision renders to, or a card file; with `changed_since`, only the specs a change
    since that revision affects (own file, family files, template folder, overrides)."""
    from publisher.review.diff import review

    return review([Path(p) for p in specs], against, changed_since=changed_since)


# ---- checkpoints --------------------------------------------------------------------------


def validate(spec: LoadedSpec | Path, checkpoint: Path) -> ValidationReport:
    """Check every tensor, the quantization config and config.json of a local checkpoint
    folder against a spec (headers only). `spec` is a path (linted here) or `lint()`'s result;
    a spec with lint errors raises SpecError."""
    from publisher.checkpoint.validate import validate_checkpoint

    return validate_checkpoint(_linted(spec), Path(checkpoint))


def validate_on_hub(
    spec: LoadedSpec | Path,
    repo_id: str,
    revision: str | None = None,
    *,
    token: str | None = None,
    endpoint: str | None = None,
) -> ValidationReport:
    """`validate` for the checkpoint already on the Hub: its headers by range requests."""
    from publisher.hub.remote_validation import validate_on_hub as on_hub

    report, _stats = on_hub(_linted(spec), repo_id, revision, token=token, endpoint=endpoint)
    return report


def audit(
    checkpoint: Path | str,
    revision: str | None = None,
    *,
    token: str | None = None,
    endpoint: str | None = None,
) -> AuditResult:
    """Which modules were quantized and which stayed BF16, from the files alone (no spec).
    `checkpoint` is a folder, or a Hub repo id (`owner/name`) when no such folder exists."""
    from publisher.checkpoint.audit import audit_inventory
    from publisher.checkpoint.integrity import check_checkpoint, check_inventory

    target = str(checkpoint)
    if _is_local(target):
        from publisher.checkpoint.mtp import read_side_files, without_side_file_strays

        inventory, findings = check_checkpoint(Path(target))
        side_files = read_side_files(Path(inventory.root), inventory)  # e.g. mtp.safetensors
        if side_files:
            findings = without_side_file_strays(findings, side_files) + side_files
    else:
        inventory = _remote_inventory(target, revision, token=token, endpoint=endpoint)
        findings = check_inventory(inventory)
    result = audit_inventory(inventory)
    result.findings = findings + result.findings
    return result


# ---- the Hub ------------------------------------------------------------------------------


def push(
    spec_path: Path,
    checkpoint: Path | None = None,
    *,
    extra_files: Path | None = None,
    repo_id: str | None = None,
    revision: str | None = None,
    create_pr: bool = False,
    private: bool = False,
    tag: str | None = None,
    message: str | None = None,
    delete: tuple[str, ...] = (),
    dry_run: bool = False,
    include: tuple[str, ...] = (),
    token: str | None = None,
    endpoint: str | None = None,
    progress: Progress | None = None,
    precision_map: bool = False,
    signing: SigningMaterial | None = None,
) -> PushResult:
    """Lint, render and validate; when everything passes, publish the card, the checkpoint and
    its audit manifest in one commit (`dry_run`: only the plan). Only what a model repository
    holds is published, plus files an `include` fnmatch pattern names; a token-like string in
    a text file blocks the push (PUSH101). `.status` says what happened ("blocked" when a
    check failed: nothing was sent); HubError when the Hub fails. With `signing`, model.sig
    (OpenSSF model signing) goes into the same commit. With `precision_map`, also
    precision_map.svg (drawn from the checkpoint, else from the weights already on the Hub),
    which the card embeds."""
    from publisher.hub.push import push as run_push

    return run_push(
        Path(spec_path),
        Path(checkpoint) if checkpoint else None,
        extra_files=Path(extra_files) if extra_files else None,
        repo_id=repo_id,
        revision=revision,
        create_pr=create_pr,
        private=private,
        tag=tag,
        message=message,
        delete=delete,
        dry_run=dry_run,
        include=tuple(include),
        token=token,
        endpoint=endpoint,
        progress=progress,
        precision_map=precision_map,
        signing=signing,
    )


def sign_folder(folder: Path, signing: SigningMaterial) -> SignResult:
    """Sign every file a push of `folder` would publish into `folder/model.sig`."""
    from publisher.provenance.sign import sign_folder as run_sign

    return run_sign(Path(folder), signing)


def verify(target: str | Path, trust: TrustAnchor, revision: str | None = None) -> Verification:
    """Verify model.sig and every file: a local folder, or a Hub repo `org/name[@rev]` from
    the Hub's metadata (no weight downloaded). `.ok`, `.findings` (SIGN501-SIGN506)."""
    from publisher.provenance.remote import split_target, verify_repo
    from publisher.provenance.verify import verify_folder

    if isinstance(target, Path):
        return verify_folder(target, trust)
    repo_id, rev = split_target(target, revision)
    return verify_repo(repo_id, rev, trust)


# ---- reports ------------------------------------------------------------------------------


def format_findings(findings: list[Finding], fmt: ReportFormat = "text") -> str:
    """Findings as the CLI prints them (text and Markdown escape control characters)."""
    from publisher.report import render

    return render(findings, fmt)


def format_validation(report: ValidationReport, fmt: ReportFormat = "text") -> str:
    """A validation report as `publisher validate` prints it."""
    from publisher.checkpoint.validation_report import format_report

    return format_report(report, fmt)


def format_audit_manifest(result: AuditResult) -> dict[str, object]:
    """The `quantization_audit.json` content for an audit (what push publishes)."""
    from publisher.checkpoint.audit import manifest

    return manifest(result)


def format_card_diff(result: ReviewResult, fmt: ReportFormat = "text") -> str:
    """`diff_cards`' result as text (changes and unified diffs), Markdown or JSON."""
    from publisher.review import report

    if fmt == "json":
        return report.render_json_report(result)
    if fmt == "markdown":
        return report.render_markdown_report(result)
    return report.render_text_report(result)


def precision_map(
    result: AuditResult,
    title: str | None = None,
    against: AuditResult | None = None,
    against_name: str | None = None,
) -> str:
    """The precision map of an audit as SVG text (what `audit --format svg` writes and push
    publishes as precision_map.svg); with `against`, the cells that changed are outlined."""
    from publisher.auditview import build_map, draw_svg
    from publisher.checkpoint.audit import compare

    changes = compare(result, against) if against is not None else None
    return draw_svg(build_map(result, title=title, changes=changes, against=against_name))


def format_audit_page(
    result: AuditResult,
    title: str | None = None,
    against: AuditResult | None = None,
    against_name: str | None = None,
) -> str:
    """The self-contained HTML report of an audit (what `audit --format html` writes)."""
    from publisher.auditview.report import audit_page
    from publisher.checkpoint.audit import compare

    changes = compare(result, against) if against is not None else None
    return audit_page(result, changes, against_name, title=title)


# ---- helpers ------------------------------------------------------------------------------


def _linted(spec: LoadedSpec | Path) -> LoadedSpec:
    loaded = lint(spec) if isinstance(spec, str | Path) else spec
    if loaded.spec is None or has_errors(loaded.findings):
        raise SpecError(
            "the spec has lint errors", where=str(loaded.path), fix="run `publisher lint` on it"
        )
    return loaded


def _is_local(target: str) -> bool:
    """A folder (or what the reader should call a bad folder), not a Hub repo id: it exists,
    or it is not `owner/name`, or its owner folder exists (`exports/ckpt` beside an `exports/`
    folder is a mistyped path, never sent to the Hub with the token)."""
    try:
        if Path(target).exists():
            return True
    except (OSError, ValueError):  # not a usable path (too long...): the reader says so
        return True
    if target.count("/") != 1 or target.startswith((".", "/", "~")):
        return True
    try:
        return Path(target).parent.exists()
    except (OSError, ValueError):
        return True


def _remote_inventory(
    target: str, revision: str | None, *, token: str | None, endpoint: str | None
) -> Any:
    """A Hub repository's inventory (its report names it hf://owner/name); when the Hub cannot
    be read either, the error says first that no local folder has the name."""
    from publisher.errors import HubError
    from publisher.hub.remote import read_remote_checkpoint

    try:
        inventory, _stats = read_remote_checkpoint(target, revision, token=token, endpoint=endpoint)
    except HubError as error:
        raise HubError(
            f"no folder {target} here, and the Hub repository {target} could not be read: "
            f"{error.message}",
            fix=error.fix or "check the folder's path, or the repository id",
        ) from None
    return inventory
