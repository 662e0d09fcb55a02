"""The main job end to end on embedded defaults (what `make demo` runs):

lint the shipped specs → render their cards → build a real tiny Qwen3.5 and its genuine ModelOpt
NVFP4 export on the CPU → write its spec (`publisher init`) → validate → audit → start a local
Hub → push card, checkpoint and audit manifest in one tagged commit → push again (nothing to
do) → audit the pushed repo by range requests.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

DEMO_REPO = "publisher-demo/Tiny-Qwen3.5-NVFP4"
DEMO_TAG = "v0.1.0"


_PACKAGE = Path(__file__).resolve().parent
SHIPPED_SPECS = (
    _PACKAGE / "model_specs"  # an installed wheel carries them (pyproject force-include)
    if (_PACKAGE / "model_specs").is_dir()
    else _PACKAGE.parent / "model_specs"  # a source checkout's own
)


def specs_root(cwd: Path) -> Path:
    """The folder whose model_specs/ the demo lints and renders: the current one when it has
    model_specs/ (a publisher repository), else the specs publisher ships."""
    if (cwd / "model_specs").is_dir():
        return cwd
    return SHIPPED_SPECS.parent


def _say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f": {text}" if text else ""))
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_environment(workdir: Path, port: int) -> str:
    """The client reads HF_ENDPOINT at import: set it (and a private HF_HOME) before that."""
    if "huggingface_hub" in sys.modules:
        raise RuntimeError(
            "the demo must configure the Hub client before huggingface_hub is imported"
        )
    from publisher.hub.server import DEMO_TOKEN

    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "HF_ENDPOINT": endpoint,
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(workdir / "hf-home"),
            "HF_TOKEN": DEMO_TOKEN,
            "PUBLISHER_CACHE_DIR": str(workdir / "cache"),
            "TRANSFORMERS_VERBOSITY": "error",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
    )
    return endpoint


def run_demo(workdir: Path, repo_root: Path) -> int:
    from publisher.card.pipeline import render_spec
    from publisher.findings import has_errors
    from publisher.report import render_text
    from publisher.spec.collect import collect_spec_paths
    from publisher.spec.lint import lint_path

    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    endpoint = prepare_environment(workdir, port)

    specs, _ = collect_spec_paths([repo_root / "model_specs"])
    _say("1. lint", f"{len(specs)} specs in model_specs/")
    for path in specs:
        loaded = lint_path(path)
        errors = has_errors(loaded.findings)
        print(f"   {path.name}: {'FAILED' if errors else 'clean'} ({_count(loaded.findings)})")
        if errors:
            sys.stdout.write(render_text(loaded.findings))
            return 1

    cards = workdir / "cards"
    cards.mkdir(exist_ok=True)
    _say("2. render", f"cards into {cards}")
    for path in specs:
        result = render_spec(path)
        assert result.text is not None
        (cards / f"{path.stem}.md").write_text(result.text, encoding="utf-8")
        size = len(result.text.encode("utf-8"))
        print(f"   {path.stem}.md: {size:,} bytes ({len(result.text):,} characters)")

    _say("3. checkpoint", "a tiny Qwen3.5 (64 layers) quantized to NVFP4 by ModelOpt on the CPU")
    from publisher.synth.modelopt_export import cached_export

    checkpoint = cached_export(
        "dense", Path(os.environ.get("PUBLISHER_SYNTH_CACHE", workdir / "synth"))
    )
    print(f"   {checkpoint}")

    spec_dir = workdir / "model_specs"
    spec_dir.mkdir(exist_ok=True)
    spec_path = spec_dir / "Tiny-Qwen3.5-NVFP4.yaml"
    _say("4. init", f"a spec from the checkpoint: {spec_path}")
    _write_demo_spec(checkpoint, spec_path)
    loaded = lint_path(spec_path)
    print(f"   lint: {_count(loaded.findings)}")

    _say("5. validate", "every tensor against the spec")
    from publisher.checkpoint.validate import validate_checkpoint
    from publisher.commands.validate import format_report

    report = validate_checkpoint(loaded, checkpoint)
    print(format_report(report, "text"))
    if not report.ok:
        return 1

    _say("6. local Hub", f"{endpoint} (starts empty on every demo run)")
    import shutil

    from publisher.hub.server import LocalHub

    shutil.rmtree(workdir / "hub-data", ignore_errors=True)
    with LocalHub(workdir / "hub-data", port=port) as hub:
        _say("7. push", f"{DEMO_REPO} with tag {DEMO_TAG}")
        first = _push(spec_path, checkpoint)
        print(
            f"   {first.status}: commit {first.commit}, {len(first.plan.files) if first.plan else 0} files, "
            f"{first.hash_stats.hashed_bytes:,} bytes hashed, tag {first.tag} {first.tag_state}"
        )
        if first.status not in ("committed", "up-to-date"):
            sys.stdout.write(render_text(first.findings))
            return 1
        _say("8. push again", "nothing changed, so nothing is sent")
        hub.requests.clear()
        second = _push(spec_path, checkpoint)
        puts = sum(1 for r in hub.requests if r.method == "PUT")
        print(
            f"   {second.status}: {second.hash_stats.hashed_bytes:,} bytes re-hashed, {puts} uploads"
        )
        _say("9. remote audit", "headers by HTTP range requests, no weights downloaded")
        from publisher.checkpoint.audit import audit_inventory
        from publisher.hub.remote import read_remote_checkpoint

        hub.requests.clear()
        inventory, stats = read_remote_checkpoint(DEMO_REPO, DEMO_TAG)
        audit = audit_inventory(inventory)
        print(
            f"   {inventory.tensor_count:,} tensors, format {audit.detected_format}: "
            f"{stats.requests} HTTP requests, {stats.bytes_read:,} bytes read"
        )
        for summary in audit.components[:4]:
            print(f"   {summary.label}: {summary.counts}")
    _say(
        "done",
        f"cards in {cards}; the repository lived at {endpoint} (data in {workdir / 'hub-data'})",
    )
    return 0


def _write_demo_spec(checkpoint: Path, spec_path: Path) -> None:
    import yaml

    from publisher.checkpoint.audit import audit_inventory
    from publisher.checkpoint.init_spec import starting_spec
    from publisher.checkpoint.reader import read_checkpoint

    inventory, _ = read_checkpoint(checkpoint)
    text = starting_spec("Tiny-Qwen3.5-NVFP4", inventory, audit_inventory(inventory))
    data: dict[str, Any] = yaml.safe_load(text)
    data["repo_id"] = DEMO_REPO
    data["summary"] = (
        "A tiny Qwen3.5 (64 layers, hidden size 64) with random weights, quantized to NVFP4 by "
        "NVIDIA ModelOpt on the CPU: a real export, small enough to publish in a demo."
    )
    data["hub"]["base_model"] = ["publisher-demo/Tiny-Qwen3.5"]
    spec_path.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def _push(spec_path: Path, checkpoint: Path) -> Any:
    from publisher.hub.push import push

    return push(spec_path, checkpoint, repo_id=DEMO_REPO, tag=DEMO_TAG)


def _count(findings: list[Any]) -> str:
    """ "1 finding", "3 findings", "no findings"."""
    if not findings:
        return "no findings"
    return f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"
