"""Hostile inputs (issue 7): each one is answered with a clear finding, quickly, in bounded memory.

Every case runs in a fresh interpreter (a crash or a runaway allocation cannot take the test
session with it), under an address-space limit, and reports its own wall time and the growth of
its peak RSS around the work. The bounds are safety bounds, not benchmarks: 10 s and 1 GB unless
a case says otherwise.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.card.check import CODES as CARD_CODES
from publisher.card.check import check_card
from publisher.codes import all_codes
from publisher.findings import Finding
from publisher.spec.lint import lint_path

REPO_ROOT = Path(__file__).resolve().parent.parent
ADDRESS_SPACE = 6 * 1024**3  # a runaway allocation fails instead of swapping the machine


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def bounded(body: str, *, timeout: float = 60) -> dict[str, Any]:
    """Run `body` (Python; it leaves its answer in `result`) in a fresh interpreter. Returns
    result, seconds (the body only) and rss_mb (peak RSS growth over the body)."""
    code = (
        "import json, resource, sys, time\n"
        "def _rss():\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "from publisher.cli import main\n"
        "import publisher.checkpoint.integrity, publisher.spec.lint, publisher.card.check\n"
        "_before, _started = _rss(), time.perf_counter()\n"
        + textwrap.dedent(body)
        + "\n_seconds = time.perf_counter() - _started\n"
        "sys.stdout.flush()\n"
        "print('\\n@@' + json.dumps({'result': result, 'seconds': _seconds,"
        " 'rss_mb': _rss() - _before}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PUBLISHER_DEBUG", None)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=env,
        preexec_fn=_limit,
    )
    wall = time.perf_counter() - started
    assert proc.returncode == 0, f"exit {proc.returncode} after {wall:.1f} s\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    payload = proc.stdout.rsplit("\n@@", 1)[1]
    report: dict[str, Any] = json.loads(payload)
    report["stdout"] = proc.stdout.rsplit("\n@@", 1)[0]
    report["stderr"] = proc.stderr
    return report


def within(report: dict[str, Any], seconds: float = 10, rss_mb: float = 1024) -> None:
    assert report["seconds"] < seconds, f"took {report['seconds']:.1f} s"
    assert report["rss_mb"] < rss_mb, f"peak RSS grew {report['rss_mb']:.0f} MB"


def codes_of(path: Path) -> str:
    """Body: check_checkpoint(path) → result = [(code, file name, pointer, message)]."""
    return f"""
        from pathlib import Path
        from publisher.checkpoint.integrity import check_checkpoint
        _, findings = check_checkpoint({str(path)!r})
        result = [(f.code, Path(f.location.file or '').name, f.location.pointer, f.message)
                  for f in findings]
    """


# ---- safetensors headers --------------------------------------------------------------------


def test_header_length_field_of_2_to_the_63(tmp_path: Path) -> None:
    shard = tmp_path / "model.safetensors"
    shard.write_bytes(struct.pack("<Q", 2**63) + b"{}")
    report = bounded(codes_of(tmp_path))
    within(report, seconds=5, rss_mb=64)
    [(code, name, _, message)] = report["result"]
    assert (code, name) == ("CKPT002", "model.safetensors")
    assert "9223372036854775808" in message


def test_a_100_mb_header_is_refused_before_it_is_allocated(tmp_path: Path) -> None:
    """The length field says 100 MiB and the (sparse) file is that long: safetensors would
    refuse it, so it is never read; reading it would cost 100 MB for the bytes alone."""
    length = 100 * 1024 * 1024
    with open(tmp_path / "model.safetensors", "wb") as handle:
        handle.write(struct.pack("<Q", length) + b'{"a": ')
        handle.truncate(8 + length + 16)
    report = bounded(codes_of(tmp_path))
    within(report, seconds=5, rss_mb=32)
    [(code, _, _, message)] = report["result"]
    assert code == "CKPT003" and "not read" in message and "will not load" in message


def test_the_same_length_field_over_range_requests_fetches_8_bytes() -> None:
    report = bounded(
        """
        import struct
        from publisher.checkpoint.reader import fetch_header
        calls = []
        def fetch(offset, length):
            calls.append((offset, length))
            return struct.pack('<Q', 100 * 1024 * 1024)[offset:offset + length]
        findings = fetch_header(fetch, 2**40, source='hf://org/m/model.safetensors')
        result = {'codes': [f.code for f in findings], 'calls': calls}
        """
    )
    within(report, seconds=5, rss_mb=32)
    assert report["result"] == {"codes": ["CKPT003"], "calls": [[0, 8]]}


def test_deeply_nested_json_header(tmp_path: Path) -> None:
    header = b"[" * 1_000_000 + b"]" * 1_000_000
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    report = bounded(codes_of(tmp_path))
    within(report, seconds=5, rss_mb=256)
    assert [r[0] for r in report["result"]] == ["CKPT006"]


def test_nested_entry_values_never_reach_a_recursion_limit(tmp_path: Path) -> None:
    value = b"[" * 50_000 + b"]" * 50_000
    header = b'{"w": {"dtype": "U8", "shape": ' + value + b', "data_offsets": [0, 2]}}'
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"xx")
    report = bounded(codes_of(tmp_path))
    within(report, seconds=5, rss_mb=256)
    assert [(r[0], r[1], r[3]) for r in report["result"]] == [
        ("CKPT006", "model.safetensors", "header JSON is nested too deeply to parse")
    ]


def test_a_million_tensors_in_one_header(tmp_path: Path) -> None:
    """1,000,000 tensors (a 68 MB header): parsed and checked, every byte range included.
    Chosen behaviour: below the 100 MB header cap a header is read, so this parses; it takes
    about 4 s and 0.8 GB on the reference machine."""
    n = 1_000_000
    shard = tmp_path / "model.safetensors"
    entry = '"t{0}":{{"dtype":"U8","shape":[1],"data_offsets":[{0},{1}]}}'
    text = "{" + ",".join(entry.format(i, i + 1) for i in range(n)) + "}"
    raw = text.encode()
    with open(shard, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        handle.truncate(8 + len(raw) + n)  # the data region is a sparse hole
    del text, raw
    report = bounded(
        f"""
        from publisher.checkpoint.integrity import check_checkpoint
        inventory, findings = check_checkpoint({str(tmp_path)!r})
        result = {{'tensors': inventory.tensor_count, 'codes': [f.code for f in findings]}}
        """
    )
    within(report, seconds=20, rss_mb=1024)
    # a 68 MB header is over the Hub's 25 MB metadata limit: a warning, nothing worse
    assert report["result"] == {"tensors": n, "codes": ["CKPT015"]}


NASTY_NAMES = [
    "../../pwned.weight",
    "/abs/olute.weight",
    "back\\slash.weight",
    "nul\x00byte.weight",
    "new\nline.weight",
    "esc\x1b[31mred.weight",
    "bidi\u202egnp.weight",
]


def _nasty_checkpoint(folder: Path) -> None:
    header: dict[str, Any] = {}
    for i, name in enumerate(NASTY_NAMES):
        header[name] = {"dtype": "U8", "shape": [2], "data_offsets": [2 * i, 2 * i + 2]}
    raw = json.dumps(header).encode()
    (folder / "model.safetensors").write_bytes(
        struct.pack("<Q", len(raw)) + raw + b"\0" * (2 * len(NASTY_NAMES))
    )


def _escaped(name: str) -> str:
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name
    )


def test_tensor_names_with_control_characters_and_separators_are_printed_escaped(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "deep" / "er" / "ckpt"
    folder.mkdir(parents=True)
    _nasty_checkpoint(folder)
    spec = tmp_path / "spec.yaml"
    spec.write_text((REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8"))
    report = bounded(
        f"""
        import io, contextlib
        outputs = {{}}
        for fmt in ('text', 'markdown', 'json'):
            for argv in (['audit', {str(folder)!r}], ['validate', {str(spec)!r}, {str(folder)!r}]):
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):
                    code = main([*argv, '--format', fmt])
                outputs[argv[0] + ':' + fmt] = [code, buffer.getvalue()]
        result = outputs
        """
    )
    within(report, seconds=10, rss_mb=256)
    for key, (code, out) in report["result"].items():
        # audit has no spec to break: the names are odd, not wrong; validate finds them unknown
        assert code == (0 if key.startswith("audit") else 1), key
        if key.endswith(":json"):
            payload = json.loads(out)
            pointers = {f["location"].get("pointer") for f in payload["findings"]}
            if key.startswith("validate"):
                assert set(NASTY_NAMES) <= pointers  # JSON keeps the exact names
            continue
        for line in out.splitlines():
            assert line.isprintable(), (key, line)  # no NUL, ESC, bidi override or CR in a line
        for name in NASTY_NAMES[3:]:
            if key == "validate:text":
                assert _escaped(name) in out, (key, name)
    validate_text = report["result"]["validate:text"][1]
    assert "VAL003" in validate_text and "../../pwned.weight" in validate_text
    # never used as paths: nothing appeared next to or above the checkpoint
    assert sorted(p.name for p in folder.iterdir()) == ["model.safetensors"]
    assert not list(tmp_path.rglob("pwned*")) and not Path("/abs").exists()


def test_shard_names_in_the_index_are_never_paths(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (tmp_path / "secret.safetensors").write_bytes(b"\x10" + b"\0" * 7 + b"{}" + b"x" * 14)
    weight_map = {
        "a": "../secret.safetensors",
        "b": "/etc/passwd",
        "c": "sub\\..\\..\\secret.safetensors",
        "d": "new\nline.safetensors",
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    report = bounded(codes_of(folder))
    within(report, seconds=5, rss_mb=64)
    found = {(code, pointer) for code, _, pointer, _ in report["result"]}
    assert {code for code, _ in found} == {"CKPT032"}
    messages = " ".join(r[3] for r in report["result"])
    # ../, absolute, backslashes, and a control character (a newline; a NUL crashed the reader):
    # names read from a file are checked before they reach the file system, never looked up
    assert messages.count("not a plain relative path") == 4
    assert "does not exist" not in messages


# ---- specs --------------------------------------------------------------------------------

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def _lint(path: Path) -> str:
    return f"""
        import io, contextlib
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(['lint', {str(path)!r}])
        result = [code, out.getvalue(), err.getvalue()]
    """


def test_yaml_billion_laughs_stops_quickly(tmp_path: Path) -> None:
    spec = tmp_path / "laughs.yaml"
    spec.write_text(BILLION_LAUGHS)  # 9^9 = 387,420,489 strings once expanded
    report = bounded(_lint(spec))
    within(report, seconds=5, rss_mb=256)
    code, out, _ = report["result"]
    assert code == 2 and "SPEC006" in out and "alias bomb" in out


def test_aliases_that_nest_deeper_than_the_text_stop_quickly(tmp_path: Path) -> None:
    spec = tmp_path / "chain.yaml"
    spec.write_text("a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 5000)))
    report = bounded(_lint(spec))
    within(report, seconds=5, rss_mb=128)
    code, out, _ = report["result"]
    assert code == 2 and "SPEC006" in out and "nested more than 100 levels" in out


def test_a_50_mb_spec_is_refused_by_its_size(tmp_path: Path) -> None:
    spec = tmp_path / "huge.yaml"
    with open(spec, "wb") as handle:
        handle.write(b"name: x\n")
        handle.truncate(50 * 1024 * 1024)
    report = bounded(_lint(spec))
    within(report, seconds=5, rss_mb=16)  # not read at all
    code, out, _ = report["result"]
    assert code == 2 and "SPEC006" in out and "52,428,800 bytes" in out


@pytest.mark.parametrize("kind", ["flow", "block", "mapping"])
def test_yaml_nested_100_000_deep_does_not_crash_the_process(tmp_path: Path, kind: str) -> None:
    """libyaml's composer recursed in C on this and killed the process (SIGSEGV, exit 139)."""
    spec = tmp_path / "deep.yaml"
    if kind == "flow":
        spec.write_text("summary: " + "[" * 100_000 + "]" * 100_000 + "\n")
    elif kind == "mapping":
        spec.write_text("summary: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n")
    else:
        spec.write_text("a:\n" + "".join(" " * i + "- \n" for i in range(1, 1500)))
    report = bounded(_lint(spec))
    within(report, seconds=5, rss_mb=256)
    code, out, _ = report["result"]
    assert code == 2 and "SPEC006" in out and "nested more than 100 levels" in out


def test_a_spec_asking_for_10_to_the_8_modules_is_refused_before_deriving(tmp_path: Path) -> None:
    base = (REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8")
    spec = tmp_path / "huge-vision.yaml"
    spec.write_text(base + "  vision: {depth: 100000000, hidden_size: 32}\n")
    report = bounded(_lint(spec))
    within(report, seconds=5, rss_mb=64)
    code, out, _ = report["result"]
    assert code == 1 and "SPEC011" in out and "more than the 1,000,000" in out


# ---- cards and configs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["1" * 100_000, "a-" * 50_000, "Ab1-" * 25_000, "1 (" * 30_000, "[" * 100_000],
    ids=["digits", "a-dashes", "name-dashes", "open-parens", "brackets"],
)
def test_check_card_on_a_100_kb_line_is_linear(tmp_path: Path, line: str) -> None:
    """These lines made regexes backtrack quadratically (100,000 digits: about 10 minutes)."""
    card = tmp_path / "README.md"
    card.write_text(f"---\nlicense: mit\n---\n# Acme-2B\n\n{line}\n\n| Component | Count |\n"
                    f"|---|---|\n| MLP | {line} |\n", encoding="utf-8")  # fmt: skip
    report = bounded(
        f"""
        import io, contextlib, json
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(['check-card', {str(card)!r}, '--format', 'json'])
        result = [code, json.loads(buffer.getvalue())["findings"]]
        """
    )
    within(report, seconds=5, rss_mb=256)
    assert report["result"] == [0, []]  # a long line of digits or dashes is not a defect


def test_a_regex_that_backtracks_exponentially_is_not_run(tmp_path: Path) -> None:
    """`(.*)*x` against a module name takes longer than the universe; it is a QCFG004."""
    shard = tmp_path / "model.safetensors"
    raw = json.dumps({"model.layers.0.mlp.gate_proj.weight": {
        "dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()  # fmt: skip
    shard.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 4)
    config = {
        "model_type": "llama",
        "quantization_config": {
            "quant_method": "compressed-tensors",
            "ignore": ["re:(.*)*x", "re:(a|aa)+$", "re:.*lm_head"],
            "config_groups": {"g": {"targets": ["Linear"], "weights": {"num_bits": 4}}},
        },
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    report = bounded(
        f"""
        import io, contextlib
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(['audit', {str(tmp_path)!r}])
        result = [code, buffer.getvalue()]
        """
    )
    within(report, seconds=5, rss_mb=128)
    code, out = report["result"]
    assert code == 1 and out.count("QCFG004") == 2 and "exponential time" in out


def test_template_arithmetic_bombs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    for source in (REPO_ROOT / "templates").rglob("*.j2"):
        dest = tmp_path / "templates" / source.relative_to(REPO_ROOT / "templates")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    base = (REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8")
    (tmp_path / "model_specs").mkdir()
    spec = tmp_path / "model_specs" / "spec.yaml"
    spec.write_text(base)
    partial = tmp_path / "templates" / "default" / "partials" / "license.md.j2"
    report = bounded(
        f"""
        import io, contextlib
        from pathlib import Path
        result = {{}}
        for bomb in ["{{{{ 'a' * 10**10 }}}}", "{{{{ [0] * 10**9 }}}}", "{{{{ 10 ** (10 ** 10) }}}}",
                     "{{{{ range(10**12) | list }}}}"]:
            Path({str(partial)!r}).write_text(bomb + "\\n")
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = main(['render', {str(spec)!r}])
            result[bomb] = [code, err.getvalue()]
        """
    )
    within(report, seconds=5, rss_mb=128)
    for bomb, (code, err) in report["result"].items():
        assert code == 2, bomb
        assert "license.md.j2:1" in err and len(err.strip().splitlines()) == 1, err


# ---- fuzzing: the spec loader and check-card never raise -----------------------------------

BASE_LINES = (
    (REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8").splitlines()
)
KNOWN_CODES = {row.code for row in all_codes()}

# valid YAML, wrong or extreme as a spec value
_VALUES = st.sampled_from(
    [
        "0", "-1", "1e400", "99999999999999999999", "[1, 2]", "{a: 1}", "null", "''", "yes",
        "'a\\x00b'", ".nan", "-.inf", "0x1F", "10 × (FFN)", "(((", "9B", "-5B", "0.8B", "1e308B",
        "apache-2.0", "other", "a/b/c", "../x", "/etc/passwd", "x" * 300, "Gated DeltaNet",
        "2 × (3 × (Gated DeltaNet → MoE) → 1 × (Gated Attention → MoE))", "8 × (FFN → FFN)",
        "100000 × (Gated Attention → FFN)", "'\u202e'", "é", "[a, [b, [c]]]", "{total: 9B}",
    ]
)  # fmt: skip
# YAML that is not usable: each must end as SPEC001, SPEC002 or SPEC006, never a crash
_HOSTILE = st.sampled_from(
    [
        "2024-02-30", "1" * 5000, "[" * 150 + "]" * 150, "!!binary AAAA", "!!python/name:os.system",
        "!foo bar", "&a 1", "*a", "\t", "\x07", "key: value: other", "? [a]", "<<: *a",
    ]
)  # fmt: skip
_LINES = st.sampled_from(
    [
        "  moe: {experts: 9, routed: 10, shared: 0, expert_intermediate_size: 1}",
        "  moe: {experts: 100000000, routed: 1, shared: 0, expert_intermediate_size: 1}",
        "  vision: {depth: 2, hidden_size: 32}", "  vision: {depth: 100000000}",
        "  mtp: {trained: true, shipped: true}", "  ffn: {intermediate_size: -3}",
        "quantization: {format: nvfp4, group_size: 32, components: [{component: mlp, precision:"
        " nvfp4, count: 24}, {component: vision, precision: nvfp4}]}",
        "quantization: {format: fp8, quantized_total: 7, components: []}",
        "benchmarks: [{title: t, columns: [{label: a, role: base}, {label: b, role: released}],"
        " recovery: true, sections: [{rows: [{name: x, scores: [1, 1]}, {name: y, scores: [2]}]}]}]",
        "serving: {engines: [{name: vllm, command: 'vllm serve {repo_id} {nope}'}]}",
        "card: {template: ../x}", "card: {overrides: {license: /etc/passwd, nope: x.j2}}",
        "extends: families/none.yaml", "extends: [1]", "extra_files: ['..', '/x', 'a\\\\b']",
        "environment: [{name: 'a|b', version: '1\\n2'}]", "license_note: '{{ 7 * 7 }}'",
    ]
)  # fmt: skip
_BROKEN_LINES = st.sampled_from(
    ["---", "...", "- ", "[", "{", "\t", "\x07", "  - - - x", "%YAML 1.2", "[" * 200,
     "{a: " * 150, ": b"]
)  # fmt: skip
_LEAVES = [i for i, line in enumerate(BASE_LINES) if ":" in line and line.split(":", 1)[1].strip()]
_SPEC_EDIT = st.one_of(
    *[st.tuples(st.just("value"), st.sampled_from(_LEAVES), _VALUES)] * 6,
    *[st.tuples(st.just("insert"), st.integers(0, len(BASE_LINES)), _LINES)] * 3,
    st.tuples(st.just("value"), st.sampled_from(_LEAVES), _HOSTILE),
    st.tuples(st.just("value"), st.sampled_from(_LEAVES), st.text(max_size=8)),
    st.tuples(st.just("anywhere"), st.integers(0, len(BASE_LINES)), _BROKEN_LINES),
)

_SPEC_DIR = Path(tempfile.mkdtemp(prefix="publisher-fuzz-spec-"))
atexit.register(shutil.rmtree, _SPEC_DIR, True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SPEC_EDIT, max_size=6))
def test_the_spec_loader_and_lint_never_raise(edits: list[tuple[str, int, str]]) -> None:
    """YAML-ish text (the minimal spec with values replaced and lines inserted, hostile or
    merely wrong): load_spec and every lint check return findings; nothing raises."""
    lines = list(BASE_LINES)
    order = {"value": 0, "insert": 1, "anywhere": 2}  # line numbers stay valid until the end
    for kind, index, text in sorted(edits, key=lambda edit: order[edit[0]]):
        if kind == "value":
            lines[index] = lines[index].split(":", 1)[0] + ": " + text
        elif kind == "insert" and text.startswith("  "):  # an architecture key, in its place
            lines.insert(lines.index("architecture:") + 1, text)
        elif kind == "insert":
            lines.append(text)
        else:  # anywhere
            lines.insert(min(index, len(lines)), text)
    path = _SPEC_DIR / "fuzz.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    loaded = lint_path(path)
    assert all(isinstance(f, Finding) and f.code in KNOWN_CODES for f in loaded.findings)
    if loaded.unusable:
        assert loaded.findings and loaded.spec is None
    for finding in loaded.findings:
        assert "\n" not in finding.message, finding


_CARD_PIECES = st.sampled_from(
    [
        "---", "--- license: mit ---", "license: 2024-02-30", "license: " + "9" * 5000,
        "base_model: [", "base_model: &a [x/y, *a]", "pipeline_tag: !!python/name:os.system",
        "[" * 300, "license: other", "base_model_relation: quantised", "library_name: vllm",
        "| Component | Count |", "|---|---|", "| MLP | 96 (32×3) |", "| | a | b |",
        "Quantized to NVFP4 (150 layers)", "Kept at BF16", "(all)", "1" * 3000, "a-" * 500,
        "https://huggingface.co/o/N-2B", "vllm serve a/N-2B", "quantized version of o/M-9B",
        "27B parameters", "Γ—", "Ã—", "â€™", "```", "~~~", "\r", "\x00", "\x1b[31m", "\u202e",
        "# Title-2B", "\ufeff", "\t",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_CARD_PIECES, st.text(max_size=6)), max_size=40).map(
        lambda parts: "\n".join(parts)
    )
)
def test_check_card_never_raises_on_hostile_markdown(text: str) -> None:
    for finding in check_card(text, file="README.md"):
        assert finding.code in CARD_CODES
        assert finding.location.line is None or finding.location.line >= 1
