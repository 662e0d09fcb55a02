"""Findings before and after: every finding the checkpoint checks report on every test fixture
and on a deterministic sample of fuzzed headers, recorded from one checkout and compared with
another. A speed-up of the checks must leave this diff empty.

    # record the findings of this checkout (the tests' fixtures, then 20,000 fuzz cases)
    .venv/bin/python bench/findings_diff.py record OUT.jsonl [--tests tests/test_validate.py ...]
    # the same for another checkout (e.g. `git archive main` unpacked in /tmp/base)
    .venv/bin/python bench/findings_diff.py record BASE.jsonl --checkout /tmp/base
    .venv/bin/python bench/findings_diff.py diff BASE.jsonl OUT.jsonl

Recording runs the chosen test files under pytest with a small plugin (this file) that wraps
the entry points of the checks (`parse_header`, `check_checkpoint`, `check_inventory`,
`validate_inventory`, `audit_inventory`) and writes, per test and call, the findings (code,
severity, location, message), the tensor count and the report's summary. Paths are written
relative to the test's temporary folder and the checkout, so two checkouts compare.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_TESTS = (
    "tests/test_checkpoint_header.py",
    "tests/test_checkpoint_integrity.py",
    "tests/test_validate.py",
    "tests/test_audit.py",
    "tests/test_mixed_precision.py",
    "tests/test_layer_table.py",
    "tests/test_bad_inputs.py",
    "tests/test_hostile_inputs.py",
    "tests/test_security.py",
    "tests/test_remote.py",
    "tests/test_remote_cli.py",
    "tests/test_profiles.py",
    "tests/test_quant_config.py",
    "tests/test_synth.py",
    "tests/test_loader_defects.py",
    "tests/test_families.py",
    "tests/test_full_size_sparse.py",
    "tests/test_fast_paths.py",
    "tests/test_precision_map.py",
)
FUZZ_CASES = 20_000

# ---- the pytest plugin (loaded with -p findings_diff) ----------------------------------------

_out: Any = None
_current = "?"
_roots: list[str] = []


def _clean(text: str) -> str:
    for root, label in _roots_with_labels():
        text = text.replace(root, label)
    return text


def _roots_with_labels() -> list[tuple[str, str]]:
    return [(root, f"<{i}>") for i, root in enumerate(_roots)]


def _findings(findings: Any) -> list[list[Any]]:
    rows = []
    for f in findings or ():
        loc = f.location
        rows.append(
            [
                f.code,
                str(f.severity.value if hasattr(f.severity, "value") else f.severity),
                _clean(str(loc.file)),
                _clean(str(loc.pointer)),
                _clean(f.message),
            ]
        )
    return rows


def _write(kind: str, **data: Any) -> None:
    kind = "parse_header" if kind == "parse_header_json" else kind
    if _out is not None:
        _out.write(json.dumps({"test": _current, "call": kind, **data}, sort_keys=True) + "\n")


def _wrap(module: Any, name: str, record: Callable[..., None]) -> None:
    original = getattr(module, name)
    if getattr(original, "__wrapped_findings__", False):
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        try:
            record(result, *args, **kwargs)
        except Exception as error:  # the recorder must never change a test's outcome
            _write(name, error=repr(error))
        return result

    wrapper.__wrapped_findings__ = True  # type: ignore[attr-defined]
    setattr(module, name, wrapper)


def _install() -> None:
    from publisher.checkpoint import audit, header, integrity, reader, validate

    def parsed(result: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(result, list):
            _write("parse_header", unreadable=_findings(result))
        else:
            _write(
                "parse_header",
                findings=_findings(result.findings),
                tensors=len(result.tensors),
                invalid=sorted(result.invalid_names),
            )

    def checked(result: Any, *args: Any, **kwargs: Any) -> None:
        inv, findings = result
        _write("check_checkpoint", findings=_findings(findings), tensors=inv.tensor_count)

    def inventory(result: Any, *args: Any, **kwargs: Any) -> None:
        _write("check_inventory", findings=_findings(result))

    def validated(report: Any, *args: Any, **kwargs: Any) -> None:
        rows = [
            [r.component, r.spec_precision, r.spec_count, r.file_counts] for r in report.components
        ]
        _write(
            "validate_inventory",
            findings=_findings(report.findings),
            components=rows,
            format=report.detected_format,
            mtp=report.mtp_tensors,
            tensors=report.tensor_count,
        )

    def audited(result: Any, *args: Any, **kwargs: Any) -> None:
        _write(
            "audit_inventory",
            findings=_findings(result.findings),
            modules=len(result.modules),
            precisions=sorted({p for _, p in result.modules.values()}),
            components=[[s.component, s.counts] for s in result.components],
            format=result.detected_format,
        )

    for module in (header, reader):
        for name in ("parse_header", "parse_header_json"):  # the latter: fetched JSON alone
            if hasattr(module, name):
                _wrap(module, name, parsed)
    for module in (integrity, validate):
        if hasattr(module, "check_checkpoint"):
            _wrap(module, "check_checkpoint", checked)
    _wrap(integrity, "check_inventory", inventory)
    _wrap(validate, "validate_inventory", validated)
    _wrap(audit, "audit_inventory", audited)


def pytest_configure(config: Any) -> None:
    global _out
    path = os.environ.get("FINDINGS_DIFF_OUT")
    if not path:
        return
    _out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed at session end)
    _roots.extend(filter(None, [str(config.option.basetemp or ""), str(config.rootpath)]))
    _install()


def pytest_runtest_setup(item: Any) -> None:
    global _current
    _current = item.nodeid


def pytest_unconfigure(config: Any) -> None:
    if _out is not None:
        _out.close()


# ---- fuzzed headers ------------------------------------------------------------------------


def record_fuzz(out_path: str, cases: int, seed: int = 15) -> None:
    """parse_header + the integrity checks over `cases` fuzz cases (bench/fuzz_headers.py)."""
    global _out, _current
    # the checkout's publisher first: fuzz_headers puts this checkout's root on sys.path
    from publisher.checkpoint.header import parse_header
    from publisher.checkpoint.integrity import check_inventory, check_shard
    from publisher.checkpoint.inventory import CheckpointInventory
    from publisher.checkpoint.reader import shard_from_header

    sys.path.insert(0, str(HERE))
    import fuzz_headers

    seeds = fuzz_headers.build_seeds()
    rng = random.Random(seed)
    with open(out_path, "a", encoding="utf-8") as _out:
        for i in range(cases):
            _current = f"fuzz/{i}"
            _kind, prefix, size = fuzz_headers.make_case(rng, seeds)
            case = hashlib.sha1(prefix + str(size).encode()).hexdigest()[:16]
            _current = f"fuzz/{case}"  # by input: the seeds may differ between checkouts
            result = parse_header(prefix, size, source="f.safetensors", shard="f.safetensors")
            if isinstance(result, list):
                _write("fuzz", unreadable=_findings(result))
                continue
            shard = shard_from_header("f.safetensors", "f.safetensors", size, result)
            inv = CheckpointInventory.build(".", [shard])
            _write(
                "fuzz",
                header=_findings(result.findings),
                shard=_findings(check_shard(shard)),
                inventory=_findings(check_inventory(inv)),
                tensors=len(result.tensors),
            )
    _out = None


# ---- command line ----------------------------------------------------------------------------


def record(out: Path, checkout: Path, tests: list[str], fuzz: int) -> None:
    out = out.resolve()
    out.unlink(missing_ok=True)
    python = sys.executable
    env = dict(os.environ, FINDINGS_DIFF_OUT=str(out), PYTHONHASHSEED="0")  # same fuzz cases
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), str(HERE)])
    basetemp = tempfile.mkdtemp(prefix="findings-diff-")
    if not tests:
        pass
    else:
        subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "findings_diff", f"--basetemp={basetemp}", "--hypothesis-seed=0",
             "-p", "no:cacheprovider", *tests],
            cwd=checkout,
            env=env,
            check=False,
        )  # fmt: skip
    if fuzz:
        code = (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import findings_diff;"
            f" findings_diff.record_fuzz({str(out)!r}, {fuzz})"
        )
        subprocess.run([python, "-c", code], cwd=checkout, env=env, check=True)


IGNORED_CALLS = {"parse_header"}
"""Header parses inside the tests are not compared: which function a test or a reader calls
changed (`parse_header_json` reads fetched JSON alone), and their findings reach
`check_checkpoint` / `check_inventory`, which are. Header parsing is compared on the fuzz
cases, whose calls are the same on both sides."""
_RANDOM_REPO = re.compile(r"-[0-9a-f]{8}(?=[/@\"'])")  # tests name Hub repos with a uuid


def load(path: Path) -> dict[str, list[str]]:
    """test id → its recorded calls (as JSON text), sorted: shards read in parallel are
    recorded in the order their threads finish."""
    calls: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["call"] in IGNORED_CALLS:
            continue
        text = _RANDOM_REPO.sub("-<id>", json.dumps(row, sort_keys=True))
        calls.setdefault(row.pop("test"), []).append(text)
    return {test: sorted(rows) for test, rows in calls.items()}


def diff(before: Path, after: Path) -> int:
    a, b = load(before), load(after)
    one_side = set(a) ^ set(b)
    if one_side:  # a fuzz case made from a seed only one checkout has, a test only one has
        print(f"{len(one_side)} tests or fuzz cases recorded on one side only (not compared)")
    differ = [t for t in sorted((set(a) | set(b)) - one_side) if a.get(t) != b.get(t)]
    total = sum(len(v) for v in a.values())
    findings = sum(
        line.count('"VAL') + line.count('"CKPT') + line.count('"QCFG')
        for v in a.values()
        for line in v
    )
    print(
        f"{len(a)} tests / fuzz cases before, {len(b)} after; {total} recorded calls, {findings} findings before"
    )
    for test in differ[:20]:
        print(f"--- {test}")
        left, right = a.get(test, []), b.get(test, [])
        for i in range(max(len(left), len(right))):
            x = left[i] if i < len(left) else "(none)"
            y = right[i] if i < len(right) else "(none)"
            if x != y:
                print(f"  before: {x[:600]}\n  after:  {y[:600]}")
    print(f"{len(differ)} differ")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--checkout", type=Path, default=HERE.parent)
    rec.add_argument("--tests", nargs="*", default=list(DEFAULT_TESTS))
    rec.add_argument("--fuzz", type=int, default=FUZZ_CASES)
    dif = sub.add_parser("diff")
    dif.add_argument("before", type=Path)
    dif.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.out, args.checkout.resolve(), args.tests, args.fuzz)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
