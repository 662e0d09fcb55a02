"""`publisher release [plan]`: release the specs a tag names, the way CI does it.

`publisher release plan` prints the specs a tag releases as a JSON job matrix (and writes
`matrix=` to $GITHUB_OUTPUT); `publisher release` checks and publishes them, writes the job
summary, the annotations and the step outputs (`commit_url`, `hub_tag`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.commands.signing_options import add_signing_options, optional_signing_material
from publisher.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from publisher.release.github import GitHubContext, Scrubber

NAME = "release"
HELP = "release the specs a tag names: lint, render, validate, push, Hub tag (what CI runs)"
EPILOG = (
    "Tags: <spec-name>/v<semver> releases model_specs/<spec-name>.yaml; v<semver> releases "
    "every spec changed since the previous v* tag (a family file counts for the specs that "
    "extend it; the first v* tag releases all). The tag comes from --tag, else GITHUB_REF "
    "(refs/tags/...). The token comes from HF_TOKEN, the stored login, or Trusted Publishing "
    "(HF_OIDC_RESOURCE set in a GitHub job with id-token: write). In GitHub Actions "
    "(GITHUB_ACTIONS=true) findings are also printed as annotations; the summary goes to "
    "GITHUB_STEP_SUMMARY and the outputs to GITHUB_OUTPUT."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "action",
        nargs="?",
        choices=["run", "plan"],
        default="run",
        help="run (default): check and publish; plan: print the specs as a JSON job matrix",
    )
    parser.add_argument("--tag", help="the release tag (default: from GITHUB_REF)")
    parser.add_argument(
        "--sha", help="the released commit (default: GITHUB_SHA, else the tag's commit, else HEAD)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        help="the repository root holding model_specs/ (default: GITHUB_WORKSPACE, else the "
        "git work tree of the current directory)",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="release this spec (repeatable; the tag then only gives the version); what a "
        "job of the release matrix runs",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        metavar="DIR",
        help="the checkpoint folder to validate and publish (one spec only; default: "
        "checkpoints/<spec-name>/ when present, else the weights already on the Hub are "
        "validated)",
    )
    parser.add_argument(
        "--checkpoints-dir",
        default="checkpoints",
        metavar="DIR",
        help="where the per-spec checkpoint folders are, relative to the root (default: checkpoints)",
    )
    parser.add_argument("--repo", metavar="ID", help="the Hub repository (default: the spec's)")
    parser.add_argument("--revision", metavar="BRANCH", help="branch to push to (default: main)")
    parser.add_argument(
        "--create-pr", action="store_true", help="open a pull request instead (no Hub tag)"
    )
    parser.add_argument(
        "--private", action="store_true", help="create the repository private (if it is new)"
    )
    parser.add_argument("--dry-run", action="store_true", help="do everything but the push")
    parser.add_argument(
        "--precision-map",
        action="store_true",
        help="with a local checkpoint, also publish precision_map.svg (drawn from its headers)"
        " and embed it in the card; the step summary links it",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help="Markdown report (default: GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument(
        "--github-output", type=Path, metavar="FILE", help="step outputs (default: GITHUB_OUTPUT)"
    )
    add_signing_options(parser, sign_flag=True)
    parser.add_argument(
        "--annotations",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="print findings as workflow annotations (default: when GITHUB_ACTIONS=true)",
    )


def run(args: argparse.Namespace) -> int:
    from publisher.release.github import GitHubContext, Scrubber

    context = GitHubContext.from_env()
    if args.summary is not None:
        context.summary = args.summary
    if args.github_output is not None:
        context.output = args.github_output
    root = _root(args.root, context)
    tag = args.tag or context.ref_tag
    # GITHUB_SHA is the commit of the tag that triggered the run, not of another --tag
    sha = args.sha or (context.sha if tag is not None and tag == context.ref_tag else None)
    scrub = Scrubber.from_env()
    if args.action == "plan":
        return _plan(tag, sha, root, context, scrub)
    return _release(args, tag, sha, root, context, scrub)


def _root(given: Path | None, context: GitHubContext) -> Path:
    from publisher.release.tags import repo_root

    if given is not None:
        if not given.is_dir():
            raise UsageError("not a folder", where=str(given))
        return given.resolve()
    if context.workspace is not None and context.workspace.is_dir():
        return context.workspace.resolve()
    return repo_root(Path.cwd())


def _plan(
    tag: str | None, sha: str | None, root: Path, context: GitHubContext, scrub: Scrubber
) -> int:
    from publisher.release.github import append_summary, write_outputs
    from publisher.release.tags import resolve

    if not tag:
        raise UsageError(
            "no release tag: give --tag, or run on a tag push (GITHUB_REF=refs/tags/...)"
        )
    resolution = resolve(tag, root, sha)
    matrix = resolution.matrix()
    sys.stdout.write(json.dumps(matrix, indent=2) + "\n")
    sys.stderr.write(f"publisher: {resolution.reason}\n")
    write_outputs(
        context.output,
        {
            "matrix": json.dumps(matrix, separators=(",", ":")),
            "count": str(len(resolution.items)),
            "version": resolution.tag.version,
            "hub_tag": resolution.tag.hub_tag,
        },
        scrub,
    )
    names = ", ".join(f"`{item.name}`" for item in resolution.items)
    append_summary(
        context.summary,
        f"## Release plan `{resolution.tag.tag}`\n\n{resolution.reason}: {names}\n",
        scrub,
    )
    return EXIT_OK


def _release(
    args: argparse.Namespace,
    tag: str | None,
    sha: str | None,
    root: Path,
    context: GitHubContext,
    scrub: Scrubber,
) -> int:
    from publisher.commands.push import make_progress
    from publisher.release.run import Release, ReleaseOptions, resolve_release_token
    from publisher.release.tags import make_item, parse_tag, resolve

    reason, commit = "", None
    if args.spec:
        version = None
        if tag:
            parsed = parse_tag(tag)
            version = parsed.version
            for path in args.spec:
                if parsed.spec_name is not None and Path(path).stem != parsed.spec_name:
                    raise UsageError(
                        f"tag {parsed.tag} releases {parsed.spec_name}, not {Path(path).stem}"
                    )
        items = [make_item(_spec_path(path, root), root, version) for path in args.spec]
        reason = "specs given with --spec"
    elif tag:
        resolution = resolve(tag, root, sha)
        items, reason, commit = resolution.items, resolution.reason, resolution.commit
    else:
        raise UsageError(
            "no release tag: give --tag (or --spec), or run on a tag push "
            "(GITHUB_REF=refs/tags/...)"
        )
    if args.checkpoint is not None and len(items) != 1:
        raise UsageError(f"--checkpoint goes with one spec; this release has {len(items)}")
    if args.checkpoint is not None and not args.checkpoint.is_dir():
        raise UsageError("checkpoint folder not found", where=str(args.checkpoint))
    if args.repo and len(items) != 1:
        raise UsageError(f"--repo goes with one spec; this release has {len(items)}")
    options = ReleaseOptions(
        checkpoint=args.checkpoint,
        checkpoints_dir=args.checkpoints_dir,
        repo_id=args.repo,
        revision=args.revision,
        create_pr=args.create_pr,
        private=args.private,
        dry_run=args.dry_run,
        token=resolve_release_token(),
        precision_map=args.precision_map,
        signing=optional_signing_material(args),
    )
    scrub.add(options.token)
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
    release = Release(
        items,
        root,
        options,
        context,
        tag=tag,
        commit=commit or sha,
        reason=reason,
        annotate=context.actions if args.annotations is None else args.annotations,
        scrub=scrub,
        progress=make_progress(),
    )
    return release.run()


def _spec_path(path: Path, root: Path) -> Path:
    for candidate in (path, root / path):
        if candidate.is_file():
            return candidate.resolve()
    raise UsageError("spec file not found", where=str(path))
