"""The comparison of a checkpoint's headers with the modules the spec derives: which modules
are written as the spec says (found a template at a time), and what is off in the others."""

from __future__ import annotations

import functools
from itertools import repeat
from operator import add, attrgetter
from typing import Any

from publisher.checkpoint import format_rules
from publisher.checkpoint.expectations import SOURCE_DTYPE, Expectation
from publisher.checkpoint.formats import (
    FormatError,
    TensorSpec,
    expected_tensors,
    logical_weight_shape,
    param_of,
)
from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.precision import LABELS, MODULE_SUFFIXES, WrittenModule
from publisher.findings import Finding, Location

KV_CACHE_SUFFIXES = frozenset({"k_scale", "v_scale"})
_DTYPE = attrgetter("dtype")
_SHAPE = attrgetter("shape")


def quick_compare(
    expected: dict[str, Expectation],
    storages: dict[str, str],
    inventory: CheckpointInventory,
    mtp_prefix: str = "mtp.",
) -> tuple[set[str], list[str]]:
    """Compare the whole expected tensor set with the headers, a template at a time.

    Returns the modules that need a closer look (a tensor missing, extra or different, or a
    shape the spec cannot give) and the tensors no module of the spec accounts for. Modules of
    one kind, shape, bias and precision (the 30,720 experts' gate_proj) share one list of
    (suffix, dtype, shape): their tensors are looked up with C-level maps, module by module
    only where one is off. When every expected tensor is present and nothing else is in the
    files, the tensors are not walked at all.
    """
    templates: dict[tuple[Any, ...], list[str]] = {}
    suspects: set[str] = set()
    for name, expectation in expected.items():
        ref = expectation.ref
        if ref.shape is None:
            suspects.add(name)
            continue
        key = (ref.kind, ref.shape, ref.bias, expectation.precision)
        templates.setdefault(key, []).append(name)
    tensors = inventory.tensors
    get = tensors.get
    present = 0
    groups: list[tuple[list[str], tuple[tuple[str, str, tuple[int, ...]], ...]]] = []
    for (kind, shape, bias, precision), names in templates.items():
        storage, source = storages.get(precision, "bf16"), SOURCE_DTYPE.get(precision, "BF16")
        try:
            specs = _expected_suffixes(kind, tuple(shape), bias, storage, source)
        except FormatError:
            suspects.update(names)
            continue
        groups.append((names, specs))
        for suffix, dtype, dims in specs:
            got = list(map(get, map(add, names, repeat(suffix)) if suffix else names))
            missing = got.count(None)
            present += len(got) - missing
            if (
                missing
                or list(map(_DTYPE, got)).count(dtype) != len(got)
                or list(map(_SHAPE, got)).count(dims) != len(got)
            ):
                for name, tensor in zip(names, got, strict=True):
                    if tensor is None or tensor.dtype != dtype or tensor.shape != dims:
                        suspects.add(name)
    if present == len(tensors):
        return suspects, []  # every tensor is an expected one: nothing left over
    wanted: set[str] = set()
    for names, specs in groups:
        for suffix, _, _ in specs:
            wanted.update(map(add, names, repeat(suffix)) if suffix else names)
    extras: list[str] = []
    for tensor_name in tensors:
        if tensor_name in wanted or tensor_name.startswith(mtp_prefix):
            continue
        if not tensor_name.isprintable():  # a look-alike such as 'x.weight\r' is no module's
            extras.append(tensor_name)
            continue
        parent, _, suffix = tensor_name.rpartition(".")
        if parent in expected and suffix in MODULE_SUFFIXES:
            suspects.add(parent)  # e.g. scales on a module the spec keeps in BF16
        elif parent in expected and suffix in KV_CACHE_SUFFIXES:
            continue  # FP8 KV-cache scales an export may add to attention projections
        elif tensor_name in expected:
            suspects.add(tensor_name)
        elif (base := param_of(tensor_name)) in expected:
            suspects.add(base)  # e.g. MXFP4 blocks of a parameter the spec keeps in BF16
        else:
            extras.append(tensor_name)
    return suspects, sorted(extras)


def check_module(
    expectation: Expectation, found: WrittenModule, storages: dict[str, str], where: str
) -> list[Finding]:
    ref = expectation.ref
    want = expectation.precision
    location = Location(found.tensors[0].shard if found.tensors else where, pointer=ref.name)
    if found.precision == "missing":
        return [
            Finding(
                "VAL006",
                f"module {ref.name} ({expectation.entry_label}) is not in the checkpoint",
                location,
            )
        ]
    if found.precision != want:
        detail = f" ({found.detail})" if found.detail else ""
        return [
            Finding(
                "VAL001",
                f"{ref.name} is written as {LABELS.get(found.precision, found.precision)}{detail} "
                f"but the spec says {LABELS.get(want, want)} ({expectation.entry_label})",
                location,
            )
        ]
    fmt = storages.get(want, "bf16")
    source = SOURCE_DTYPE.get(want, "BF16")
    weight_shape = ref.shape or _file_weight_shape(found, fmt)
    if weight_shape is None:
        return []
    try:
        wanted = _expected(ref.name, ref.kind, tuple(weight_shape), ref.bias, fmt, source)
    except FormatError as error:
        return [Finding("VAL005", f"{ref.name}: {error}", location)]
    actual = {t.name: t for t in found.tensors}
    if len(actual) >= len(wanted) and all(
        (t := actual.get(w.name)) is not None and t.dtype == w.dtype and t.shape == w.shape
        for w in wanted
    ):
        return []  # the common case, checked without building any finding
    problems: list[Finding] = []
    for spec_tensor in wanted:
        tensor = actual.get(spec_tensor.name)
        tensor_location = Location(
            tensor.shard if tensor else location.file, pointer=spec_tensor.name
        )
        if tensor is None:
            problems.append(
                Finding(
                    "VAL002",
                    f"{spec_tensor.name} ({spec_tensor.dtype} {list(spec_tensor.shape)}) is missing",
                    tensor_location,
                )
            )
        elif tensor.dtype != spec_tensor.dtype:
            problems.append(
                Finding(
                    "VAL004",
                    f"{spec_tensor.name} is {tensor.dtype}; {LABELS.get(want, want)} stores it as {spec_tensor.dtype}",
                    tensor_location,
                )
            )
        elif tuple(tensor.shape) != tuple(spec_tensor.shape):
            problems.append(
                format_rules.shape_problem(spec_tensor, tensor, ref, fmt, tensor_location)
            )
    return problems


def _expected(
    module: str, kind: str, shape: tuple[int, ...], bias: bool, fmt: str, source: str
) -> list[TensorSpec]:
    """expected_tensors, with the per-shape rule work remembered (30,000 experts share 3 shapes)."""
    if kind == "param":
        return expected_tensors(module, kind, shape, bias, fmt, source)
    return [
        TensorSpec(f"{module}{suffix}", dtype, dims)
        for suffix, dtype, dims in _expected_suffixes(kind, shape, bias, fmt, source)
    ]


@functools.lru_cache(maxsize=1024)
def _expected_suffixes(
    kind: str, shape: tuple[int, ...], bias: bool, fmt: str, source: str
) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
    return tuple(
        (spec.name, spec.dtype, tuple(spec.shape))
        for spec in expected_tensors("", kind, shape, bias, fmt, source)
    )


def _file_weight_shape(found: WrittenModule, fmt: str) -> tuple[int, ...] | None:
    for tensor in found.tensors:
        suffix = tensor.name.rpartition(".")[2]
        if suffix in ("weight", "weight_packed"):
            if fmt != "bf16" and len(tensor.shape) == 2:
                return logical_weight_shape(fmt, tuple(tensor.shape))
            return tuple(tensor.shape)
        if len(found.tensors) == 1:
            return tuple(tensor.shape)
    return None
