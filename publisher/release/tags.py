"""The release tag scheme, and which specs a tag releases.

- `<spec-name>/v<semver>` (e.g. `Qwen3.5-27B-NVFP4/v1.2.0`) releases one model: the spec
  `model_specs/<spec-name>.yaml`.
- `v<semver>` (e.g. `v1.2.0`) releases every spec changed since the previous `v*` tag: the
  highest `v<semver>` tag below this version that is merged into the released commit. A spec
  changed when its own file, or any file its `extends:` chain pulls in (a family file under
  `model_specs/families/`), differs between the two commits (`git diff --name-only`). The first
  `v*` tag releases every spec.

The Hub tag of a release is `v<semver>` in both cases.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.errors import InputError, UsageError
from publisher.spec.chain import extends_chain

SPECS_DIR = "model_specs"
SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_ALL = re.compile(rf"^v(?P<version>{SEMVER})$")
_ONE = re.compile(rf"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)/v(?P<version>{SEMVER})$")
SCHEME = "<spec-name>/v<major>.<minor>.<patch> (one model) or v<major>.<minor>.<patch> (every changed spec)"
VersionKey = tuple[int, int, int, bool, tuple[tuple[int, int, str], ...]]


@dataclass(frozen=True)
class ReleaseTag:
    """A parsed release tag."""

    tag: str
    version: str
    spec_name: str | None = None  # None: every spec changed since the previous v* tag

    @property
    def hub_tag(self) -> str:
        """The tag put on the Hub commit: `v<semver>`."""
        return f"v{self.version}"

    @property
    def one_model(self) -> bool:
        return self.spec_name is not None


def parse_tag(tag: str) -> ReleaseTag:
    """Parse a release tag (a leading `refs/tags/` is allowed); UsageError (exit 2) if it does
    not follow the scheme."""
    text = tag.strip()
    text = text.removeprefix("refs/tags/")
    match = _ALL.match(text)
    if match:
        return ReleaseTag(text, match["version"])
    match = _ONE.match(text)
    if match:
        return ReleaseTag(text, match["version"], match["name"])
    raise UsageError(
        f"tag {tag!r} does not follow the release scheme",
        fix=f"tag {SCHEME}, e.g. Qwen3.5-27B-NVFP4/v1.2.0 or v1.2.0",
    )


def version_key(version: str) -> VersionKey:
    """Semantic-version precedence: numbers compared as numbers; a pre-release sorts before
    its release; build metadata is ignored."""
    match = re.fullmatch(SEMVER, version)
    if match is None:
        raise UsageError(f"not a semantic version: {version!r}")
    pre = match["pre"]
    ids = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in (pre or "").split(".")
    )
    return (
        int(match["major"]),
        int(match["minor"]),
        int(match["patch"]),
        pre is None,
        ids if pre else (),
    )


# ---- git ----------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    """Run git in `root`; its stdout, or InputError (exit 2) with git's own message."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(
            "git is not installed; the release plan needs the repository's history"
        ) from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split()) or f"exit {done.returncode}"
        raise InputError(f"git {' '.join(args)} failed: {detail}", where=str(root))
    return done.stdout


def repo_root(start: Path) -> Path:
    """The top of the git work tree containing `start`, else `start` itself."""
    try:
        top = git(start, "rev-parse", "--show-toplevel").strip()
    except InputError:
        return start.resolve()
    return Path(top).resolve()


def resolve_commit(root: Path, rev: str) -> str:
    """The full commit id of a revision (InputError if git does not know it)."""
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except InputError:
        raise InputError(
            f"no commit {rev} in the git repository",
            where=str(root),
            fix="check --sha, and fetch the whole history with its tags "
            "(actions/checkout with fetch-depth: 0)",
        ) from None


def release_commit(root: Path, sha: str | None, tag: str | None) -> str:
    """The commit being released: `sha` if given, else the tag's commit, else HEAD."""
    if sha:
        return resolve_commit(root, sha)
    if tag:
        try:
            return resolve_commit(root, f"refs/tags/{tag}")
        except InputError:
            pass
    return resolve_commit(root, "HEAD")


def previous_release(root: Path, commit: str, current: ReleaseTag) -> str | None:
    """The previous `v*` tag: the highest `v<semver>` below `current` merged into `commit`."""
    lines = git(root, "tag", "--merged", commit, "--list", "v*").split()
    below: list[tuple[VersionKey, str]] = []
    limit = version_key(current.version)
    for name in lines:
        match = _ALL.match(name)
        if match is None or name == current.tag:
            continue
        key = version_key(match["version"])
        if key < limit:
            below.append((key, name))
    return max(below)[1] if below else None


def changed_files(root: Path, since: str, commit: str, under: str = SPECS_DIR) -> set[str]:
    """Paths (relative to the root, POSIX) under `under` that differ between two commits;
    a rename counts as both its old and its new path."""
    out = git(root, "diff", "--name-only", "--no-renames", "-z", since, commit, "--", under)
    return {name for name in out.split("\0") if name}


# ---- specs --------------------------------------------------------------------------------


def spec_files(root: Path, specs_dir: str = SPECS_DIR) -> list[Path]:
    """The release specs: YAML files directly in `model_specs/` (family files live below)."""
    folder = root / specs_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` (POSIX), or as given when it lies outside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass
class ReleaseItem:
    """One spec to release (one entry of the job matrix)."""

    spec: str  # path relative to the repository root, as the matrix carries it
    path: Path
    name: str
    version: str | None
    repo_id: str | None

    @property
    def hub_tag(self) -> str | None:
        return f"v{self.version}" if self.version else None

    def matrix_entry(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "name": self.name,
            "version": self.version,
            "repo_id": self.repo_id,
        }


def make_item(path: Path, root: Path, version: str | None) -> ReleaseItem:
    from publisher.spec.loader import load_spec

    data = load_spec(path).data or {}
    repo_id = data.get("repo_id")
    return ReleaseItem(
        spec=relative(path, root),
        path=path,
        name=path.stem,
        version=version,
        repo_id=repo_id if isinstance(repo_id, str) else None,
    )


@dataclass
class Resolution:
    """What a tag releases, and why."""

    tag: ReleaseTag
    commit: str | None
    items: list[ReleaseItem]
    previous: str | None = None
    changed: list[str] = field(default_factory=list)
    reason: str = ""

    def matrix(self) -> dict[str, Any]:
        return {"include": [item.matrix_entry() for item in self.items]}


def _names(specs: list[Path]) -> str:
    names = [p.stem for p in specs]
    shown = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
    return shown or "none"


def find_spec(root: Path, tag: ReleaseTag, specs_dir: str = SPECS_DIR) -> Path:
    """`model_specs/<name>.yaml` (or .yml); UsageError (exit 2) naming the specs there."""
    name = str(tag.spec_name)
    for suffix in (".yaml", ".yml"):
        path = root / specs_dir / f"{name}{suffix}"
        if path.is_file():
            return path
    raise UsageError(
        f"tag {tag.tag} matches no spec: {specs_dir}/{name}.yaml does not exist",
        fix=f"the specs are: {_names(spec_files(root, specs_dir))}",
    )


def resolve(tag: str, root: Path, sha: str | None = None, specs_dir: str = SPECS_DIR) -> Resolution:
    """The specs `tag` releases. UsageError (exit 2) for a tag off the scheme or one that
    matches no spec; InputError when git cannot answer."""
    parsed = parse_tag(tag)
    if parsed.spec_name is not None:
        path = find_spec(root, parsed, specs_dir)
        item = make_item(path, root, parsed.version)
        return Resolution(parsed, None, [item], reason=f"tag {parsed.tag} names {item.spec}")
    specs = spec_files(root, specs_dir)
    if not specs:
        raise UsageError(f"tag {parsed.tag} matches no spec: {specs_dir}/ holds no *.yaml spec")
    commit = release_commit(root, sha, parsed.tag)
    previous = previous_release(root, commit, parsed)
    if previous is None:
        items = [make_item(p, root, parsed.version) for p in specs]
        reason = f"{parsed.tag} is the first v* tag: every spec is released"
        return Resolution(parsed, commit, items, reason=reason)
    changed = changed_files(root, previous, commit, specs_dir)
    chosen: list[Path] = []
    for path in specs:
        chain = {relative(p, root) for p in extends_chain(path)}
        if chain & changed:
            chosen.append(path)
    if not chosen:
        raise UsageError(
            f"tag {parsed.tag} matches no spec: nothing under {specs_dir}/ changed since "
            f"{previous} ({commit[:7]})",
            fix="tag one model as <spec-name>/v<semver> to release it anyway",
        )
    items = [make_item(p, root, parsed.version) for p in chosen]
    reason = f"{len(items)} spec(s) changed since {previous}"
    return Resolution(parsed, commit, items, previous, sorted(changed), reason)
