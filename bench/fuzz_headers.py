"""Fuzz the safetensors header reader: a million generated or mutated headers, only findings out.

Seeds are real headers: the one safetensors' own writer makes for a small file (numpy, with
`__metadata__`), and slices of the genuine ModelOpt NVFP4 export of the tiny Qwen3.5 (one
MLP, one attention block, one DeltaNet block, norms and scalars, as ModelOpt wrote them; built
into the synth cache when missing). Each case takes a seed and applies one or more mutations:

- bytes: bit flips, random bytes, insertions and deletions, truncation of the header;
- the length field: random, 0, header +/- 1..16, 2^63, 2^64 - 1, past the end of the file;
- the file size: too short for the data, or longer (trailing bytes);
- JSON: wrong types for dtype, shape and data_offsets (and the entry itself), huge and
  negative numbers, 5,000-digit integers, floats, missing keys, duplicate keys (tensor names
  and entry keys), overlapping, swapped and out-of-file offsets, unknown dtypes, odd
  `__metadata__`, control characters, surrogates and path separators in names, deep nesting,
  NaN and Infinity, a BOM, trailing garbage, a header that is a list, a number or null.

Every case goes through `publisher.checkpoint.header.parse_header` and, when a header comes
back, the integrity checks over a `ShardInfo` built from it (`check_shard`, then
`check_inventory` of a one-shard inventory). Only findings may come out: any exception is
counted, and its first occurrences are kept to reproduce. Outcomes are counted by kind and
code. Cases run in worker processes (2 by default), in chunks with their own random seeds, so a
run is reproducible for a given --seed and --cases.

    .venv/bin/python bench/fuzz_headers.py                       # 1,000,000 cases, 2 workers
    .venv/bin/python bench/fuzz_headers.py --cases 20000 --workers 1
    .venv/bin/python bench/fuzz_headers.py --readme              # and write bench/README.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import struct
import sys
import tempfile
import time
import traceback
from collections import Counter
from multiprocessing import get_context
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchlib import machine_line, write_section  # noqa: E402

SECTION = "Fuzzing the header reader"
CHUNK = 5_000
Seed = tuple[bytes, dict[str, Any], int]  # (header JSON bytes, header object, data bytes)

DTYPE_BITS = {"U8": 8, "F8_E4M3": 8, "F32": 32, "BF16": 16, "I64": 64, "F4": 4, "BOOL": 8}


# ---- seeds: real headers --------------------------------------------------------------------


def _numpy_seed(folder: Path) -> bytes:
    import numpy as np
    from safetensors.numpy import save_file

    path = folder / "small.safetensors"
    save_file(
        {
            "model.embed_tokens.weight": np.zeros((8, 4), np.float16),
            "model.layers.0.mlp.gate_proj.weight": np.zeros((4, 2), np.uint8),
            "model.layers.0.mlp.gate_proj.weight_scale": np.zeros((4, 1), np.uint8),
            "model.layers.0.mlp.gate_proj.weight_scale_2": np.zeros((), np.float32),
            "model.norm.weight": np.zeros((4,), np.float32),
            "lm_head.bias": np.zeros((3,), np.int64),
        },
        str(path),
        metadata={"format": "pt", "producer": "fuzz"},
    )
    return path.read_bytes()


def _export_header() -> dict[str, Any]:
    """The header of the genuine tiny ModelOpt NVFP4 export (synth cache, built if missing)."""
    from publisher.testkit.modelopt_export import cached_export

    cache = Path(os.environ.get("PUBLISHER_SYNTH_CACHE", HERE.parent / ".cache" / "synth"))
    shard = cached_export("dense", cache) / "model.safetensors"
    with shard.open("rb") as handle:
        (n,) = struct.unpack("<Q", handle.read(8))
        header: dict[str, Any] = json.loads(handle.read(n))
    return header


def _compact(entries: dict[str, Any], metadata: dict[str, str] | None) -> tuple[bytes, int]:
    """Re-lay the entries one after another (as a writer would) → (header JSON, data bytes)."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, entry in entries.items():
        n = math.prod(entry["shape"]) * _bits(entry["dtype"]) // 8
        header[name] = {
            "dtype": entry["dtype"],
            "shape": entry["shape"],
            "data_offsets": [offset, offset + n],
        }
        offset += n
    return json.dumps(header, separators=(",", ":")).encode(), offset


def _bits(dtype: str) -> int:
    from publisher.checkpoint.inventory import DTYPE_BITS as ALL

    return ALL[dtype]


def build_seeds() -> list[Seed]:
    seeds: list[Seed] = []
    with tempfile.TemporaryDirectory() as folder:
        image = _numpy_seed(Path(folder))
    (n,) = struct.unpack("<Q", image[:8])
    seeds.append((image[8 : 8 + n], json.loads(image[8 : 8 + n]), len(image) - 8 - n))
    header = _export_header()
    metadata = header.pop("__metadata__", None)
    prefixes = [
        "model.language_model.layers.3.mlp.",
        "model.language_model.layers.3.self_attn.",
        "model.language_model.layers.0.linear_attn.",
        "model.language_model.norm",
        "model.visual.blocks.0.",
        "lm_head",
    ]
    for prefix in prefixes:
        entries = {k: v for k, v in header.items() if k.startswith(prefix)}
        raw, data = _compact(entries, metadata)
        seeds.append((raw, json.loads(raw), data))
    return seeds


# ---- mutations ------------------------------------------------------------------------------

NAMES = ["../../etc/passwd", "/abs", "a\\b", "nul\x00", "new\nline", "\x1b[31m", "\u202e",
         "\ud800", "", " ", "é" * 3, "x" * 300, "__metadata__", "t" * 10_000]  # fmt: skip
VALUES: list[Any] = [None, True, False, 0, -1, 1, 2**63, 2**64 - 1, 2**64, 10**30, -(2**64),
                     1.5, 1e308, float("-0"), "", "U8", "x", [], [1], [-1], [0, 1, 2],
                     [2**64, 0], {}, {"a": 1}, [[1]], "F4", "F8_E4M3", "Q7", "bf16"]  # fmt: skip
DEEP = "[" * 5000 + "]" * 5000


def _entries(obj: dict[str, Any]) -> list[str]:
    return [k for k in obj if k != "__metadata__"]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def json_mutation(rng: random.Random, obj: dict[str, Any]) -> tuple[str, bytes]:
    """One structural mutation of the header object → (name, header bytes)."""
    obj = {k: (dict(v) if isinstance(v, dict) else v) for k, v in obj.items()}
    names = _entries(obj) or ["w"]
    name = rng.choice(names)
    entry = obj.get(name)
    if not isinstance(entry, dict):
        entry = obj[name] = {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}
    kind = rng.randrange(16)
    if kind == 0:  # wrong type or value for a field
        entry[rng.choice(["dtype", "shape", "data_offsets"])] = rng.choice(VALUES)
        return "json: wrong type", _dumps(obj)
    if kind == 1:  # a missing key
        entry.pop(rng.choice(["dtype", "shape", "data_offsets"]), None)
        return "json: missing key", _dumps(obj)
    if kind == 2:  # huge or negative numbers in shape / offsets
        field = rng.choice(["shape", "data_offsets"])
        value = entry.get(field)
        size = len(value) if isinstance(value, list) and value else 2
        entry[field] = [rng.choice([2**63, 2**64 - 1, 2**64, -1, 10**19, 0]) for _ in range(size)]
        return "json: huge numbers", _dumps(obj)
    if kind == 3:  # a 5,000-digit integer, written as text
        text = _dumps(obj).replace(b'"data_offsets":[', b'"data_offsets":[' + b"9" * 5000 + b",", 1)
        return "json: 5000-digit number", text
    if kind == 4:  # duplicate tensor name (textual)
        raw = _dumps(obj)
        dup = b"," + _dumps({name: entry})[1:-1] + b"}"
        return "json: duplicate tensor", raw[:-1] + dup
    if kind == 5:  # duplicate key inside an entry
        raw = _dumps(obj)
        target = b'"dtype":'
        return "json: duplicate entry key", raw.replace(target, b'"dtype":"U8",' + target, 1)
    if kind == 6:  # overlapping offsets: move a tensor onto another's bytes
        other = obj.get(rng.choice(names))
        if (
            isinstance(other, dict)
            and isinstance(other.get("data_offsets"), list)
            and len(other["data_offsets"]) == 2
        ):
            begin = other["data_offsets"][0]
            span = rng.randrange(1, 64)
            entry["data_offsets"] = [begin, begin + span] if isinstance(begin, int) else [0, span]
        return "json: overlapping offsets", _dumps(obj)
    if kind == 7:  # swapped or shifted offsets
        offsets = entry.get("data_offsets")
        if isinstance(offsets, list) and len(offsets) == 2:
            entry["data_offsets"] = [offsets[1], offsets[0]] if rng.random() < 0.5 else [
                o + rng.randrange(-8, 9) if isinstance(o, int) else o for o in offsets]  # fmt: skip
        return "json: shifted offsets", _dumps(obj)
    if kind == 8:  # unknown or sub-byte dtype
        entry["dtype"] = rng.choice(["Q7", "F4", "F6_E2M3", "u8", "BF16 ", "", "F8_E8M0"])
        return "json: dtype", _dumps(obj)
    if kind == 9:  # odd __metadata__
        obj["__metadata__"] = rng.choice([None, 1, "x", [], {"a": 1}, {"a": {"b": "c"}}, {"": ""}])
        return "json: metadata", _dumps(obj)
    if kind == 10:  # odd tensor names
        obj[rng.choice(NAMES)] = obj.pop(name)
        return "json: names", _dumps(obj)
    if kind == 11:  # deep nesting as a value
        text = _dumps(obj).replace(b'"shape":', b'"shape":' + DEEP.encode() + b',"x":', 1)
        return "json: deep nesting", text
    if kind == 12:  # NaN / Infinity tokens
        raw = _dumps(obj)
        return "json: NaN/Infinity", raw.replace(
            b'"shape":[', b'"shape":[' + rng.choice([b"NaN,", b"Infinity,", b"-Infinity,"]), 1
        )
    if kind == 13:  # not an object at all
        return "json: not an object", rng.choice([b"[]", b"null", b"1", b'"x"', b"[{}]", b"true"])
    if kind == 14:  # the entry itself of another type
        obj[name] = rng.choice(VALUES)
        return "json: entry type", _dumps(obj)
    # extra keys, empty shapes, zero-size tensors
    entry[rng.choice(["extra", "dtype", "shape"])] = rng.choice([[], [0], "U8", {"k": []}])
    return "json: extra keys", _dumps(obj)


def byte_mutation(rng: random.Random, raw: bytes) -> tuple[str, bytes]:
    data = bytearray(raw)
    kind = rng.randrange(7)
    if kind == 0 and data:
        for _ in range(rng.randrange(1, 9)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        return "bytes: bit flips", bytes(data)
    if kind == 1 and data:
        for _ in range(rng.randrange(1, 5)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return "bytes: random bytes", bytes(data)
    if kind == 2:
        i = rng.randrange(len(data) + 1)
        data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        return "bytes: insertion", bytes(data)
    if kind == 3 and data:
        i = rng.randrange(len(data))
        del data[i : i + rng.randrange(1, 16)]
        return "bytes: deletion", bytes(data)
    if kind == 4:
        return "bytes: truncation", bytes(data[: rng.randrange(len(data) + 1)])
    if kind == 5:
        extra = rng.choice([b"\xef\xbb\xbf", b" " * 8, b"\x00", b"}", b"garbage"])
        return "bytes: padding/BOM/garbage", (extra + bytes(data)) if rng.random() < 0.5 else bytes(
            data
        ) + extra
    return "bytes: invalid UTF-8", bytes(data) + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"])


def make_case(rng: random.Random, seeds: list[Seed]) -> tuple[str, bytes, int]:
    """(mutation names, prefix bytes, file size) of one case."""
    raw, obj, data = rng.choice(seeds)
    labels = []
    roll = rng.random()
    if roll < 0.7:  # JSON-level (sometimes twice); the header usually still parses
        current: Any = obj
        for _ in range(1 if rng.random() < 0.8 else 2):
            try:
                label, raw = json_mutation(rng, current)
            except (TypeError, KeyError, IndexError, AttributeError):  # the mutator's limits
                break
            labels.append(label)
            try:  # a second mutation needs the first one's result as an object
                current = json.loads(raw)
            except (ValueError, RecursionError):
                break
            if not isinstance(current, dict):
                break
    if roll >= 0.6:  # byte-level, alone or on top
        label, raw = byte_mutation(rng, raw)
        labels.append(label)
    length = len(raw)
    file_size = 8 + length + data
    roll = rng.random()
    if roll < 0.12:  # the length field lies
        length = rng.choice([0, 1, 7, len(raw) - 1, len(raw) + 1, len(raw) + rng.randrange(2, 17),
                             2**63, 2**64 - 1, rng.randrange(2**64), file_size])  # fmt: skip
        length = max(0, min(length, 2**64 - 1))
        if rng.random() < 0.3:  # and the file is big enough for it: the cap must refuse it
            file_size = min(2**64 - 1, 8 + length + data)
        labels.append("length field")
    elif roll < 0.22:  # the file size lies
        file_size = rng.choice([0, 7, 8, 8 + len(raw), file_size - rng.randrange(1, 64),
                                file_size + rng.randrange(1, 4096), 2**64 - 1])  # fmt: skip
        file_size = max(0, file_size)
        labels.append("file size")
    prefix = struct.pack("<Q", length) + raw
    if rng.random() < 0.05:
        prefix = prefix[: rng.randrange(len(prefix) + 1)]
        labels.append("short read")
    return " + ".join(labels), prefix, file_size


# ---- running --------------------------------------------------------------------------------


def run_case(prefix: bytes, file_size: int) -> list[str]:
    """Outcome keys of one case; raises if the reader or the checks raise."""
    from publisher.checkpoint.header import ParsedHeader, parse_header
    from publisher.checkpoint.integrity import check_inventory, check_shard
    from publisher.checkpoint.inventory import CheckpointInventory
    from publisher.checkpoint.reader import shard_from_header
    from publisher.findings import Finding

    result = parse_header(prefix, file_size, source="fuzz.safetensors")
    if not isinstance(result, ParsedHeader):
        assert result and all(isinstance(f, Finding) for f in result), result
        return ["unreadable", *(f.code for f in result)]
    shard = shard_from_header("fuzz.safetensors", "fuzz.safetensors", file_size, result)
    findings = check_shard(shard)
    inventory = CheckpointInventory.build("fuzz", [shard])
    findings += check_inventory(inventory)
    assert all(isinstance(f, Finding) for f in findings)
    codes = sorted({f.code for f in findings})
    return ["parsed, findings" if codes else "parsed, clean", *codes]


def work(
    job: tuple[int, int, int, list[Seed]],
) -> tuple[int, Counter[str], Counter[str], list[str]]:
    chunk, count, base_seed, seeds = job
    rng = random.Random(base_seed * 1_000_003 + chunk)
    outcomes: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    failures: list[str] = []
    for _ in range(count):
        label, prefix, file_size = make_case(rng, seeds)
        mutations[label.split(" + ")[0]] += 1
        try:
            for key in run_case(prefix, file_size):
                outcomes[key] += 1
        except Exception as error:  # the one thing that must never happen
            outcomes[f"EXCEPTION {type(error).__name__}"] += 1
            if len(failures) < 5:
                failures.append(
                    f"{label}: file_size={file_size} prefix={prefix[:300]!r}\n{traceback.format_exc()}"
                )
    return count, outcomes, mutations, failures


def fuzz(cases: int, workers: int, seed: int) -> dict[str, Any]:
    seeds = build_seeds()
    jobs = [
        (i, min(CHUNK, cases - i * CHUNK), seed, seeds) for i in range(math.ceil(cases / CHUNK))
    ]
    outcomes: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    failures: list[str] = []
    done = 0
    started = time.perf_counter()
    with get_context("fork").Pool(workers) as pool:
        for n, out, mut, fail in pool.imap_unordered(work, jobs):
            done += n
            outcomes.update(out)
            mutations.update(mut)
            failures += fail[: max(0, 10 - len(failures))]
            if done % 100_000 < CHUNK:
                print(f"  {done:,} cases, {time.perf_counter() - started:.0f} s", flush=True)
    return {
        "cases": done,
        "seconds": time.perf_counter() - started,
        "workers": workers,
        "seeds": len(seeds),
        "seed_sizes": [len(s[0]) for s in seeds],
        "outcomes": outcomes,
        "mutations": mutations,
        "failures": failures,
    }


def report(result: dict[str, Any]) -> str:
    outcomes: Counter[str] = result["outcomes"]
    cases = result["cases"]
    exceptions = sum(n for k, n in outcomes.items() if k.startswith("EXCEPTION"))
    kinds = ["parsed, clean", "parsed, findings", "unreadable"]
    rows = [f"| {k} | {outcomes.get(k, 0):,} | {outcomes.get(k, 0) / cases:.1%} |" for k in kinds]
    rows.append(f"| an exception (must be 0) | {exceptions:,} | {exceptions / cases:.1%} |")
    codes = sorted((k, n) for k, n in outcomes.items() if k[:4] == "CKPT")
    code_cells = ", ".join(f"{k} {n:,}" for k, n in codes)
    muts = ", ".join(f"{k} {n:,}" for k, n in result["mutations"].most_common())
    rate = cases / result["seconds"]
    verdict = (
        "no exception: every case ended in a parsed header or in findings"
        if not exceptions
        else f"{exceptions:,} EXCEPTIONS (see the repros printed above)"
    )
    return f"""`bench/fuzz_headers.py`: {cases:,} generated headers through `parse_header`, then
`check_shard` and `check_inventory` on the `ShardInfo` built from each header that parsed.
Seeds: {result["seeds"]} real headers ({", ".join(f"{s:,}" for s in result["seed_sizes"])} bytes): the
one `safetensors.numpy.save_file` writes for a small file, and slices of the genuine ModelOpt
NVFP4 export of the tiny Qwen3.5. Each case applies one or more mutations (bytes: bit flips, random
bytes, insertions, deletions, truncation, BOM/padding/garbage, invalid UTF-8; the length field
and the file size; JSON: wrong types, huge, negative and 5,000-digit numbers, missing keys,
duplicate tensor names and entry keys, overlapping, swapped and shifted offsets, unknown dtypes,
odd `__metadata__`, control characters, surrogates and path separators in names, deep nesting,
NaN/Infinity, non-objects).

**Result: {verdict}.** {cases:,} cases in {result["seconds"]:.1f} s on {result["workers"]} worker processes
({rate:,.0f} cases/s).

| Outcome | Cases | Share |
|---|---:|---:|
{chr(10).join(rows)}

Findings by code (cases in which each appeared): {code_cells}.

First mutation of each case: {muts}.

Machine: {machine_line()}.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--readme", action="store_true", help="write the figures into bench/README.md"
    )
    args = parser.parse_args()
    print(
        f"fuzzing {args.cases:,} headers on {args.workers} workers (seed {args.seed})", flush=True
    )
    result = fuzz(args.cases, args.workers, args.seed)
    for failure in result["failures"]:
        print("\n" + failure, file=sys.stderr)
    text = report(result)
    print(text)
    if args.readme:
        write_section(SECTION, text)
    exceptions = sum(n for k, n in result["outcomes"].items() if k.startswith("EXCEPTION"))
    return 1 if exceptions else 0


if __name__ == "__main__":
    raise SystemExit(main())
