"""What a card says about the stored format, read from the same table validation uses
(`publisher.checkpoint.formats.FORMATS`): one line per stored tensor with its suffix, dtype,
shape and what it holds. A format added to the table appears in cards with no edit here.
"""

from __future__ import annotations

from publisher.checkpoint.formats import SOURCE, FormatError, FormatRule, format_rule, rule_shape

# A symbolic Linear [out, in]: two sizes no rule's arithmetic can confuse with each other.
_OUT, _IN = 3 * 2**20, 5 * 2**20


def shape_text(rule: FormatRule, index: int) -> str:
    """'[out, in/2]', '[out, in/16]', '[1]' or 'scalar' for the index-th tensor of the rule:
    the table's own shape arithmetic applied to a symbolic [out, in] Linear."""
    if rule.tensors[index].shape == "scalar":
        return "scalar"
    table = _table_text(rule, index)
    if table is not None:
        return table
    try:
        shape = rule_shape(rule.tensors[index].shape, rule, (_OUT, _IN))
    except (AssertionError, FormatError, ValueError, ZeroDivisionError, KeyError):
        return "[…]"
    if not shape:
        return "scalar"
    return "[" + ", ".join(_dim(d) for d in shape) + "]"


def _table_text(rule: FormatRule, index: int) -> str | None:
    """The format table's own shape text for a tensor, where the table has one (SHAPE_TEXT);
    None where it has none (then the table's shape arithmetic is applied symbolically)."""
    from publisher.checkpoint import formats

    texts: dict[str, str] = getattr(formats, "SHAPE_TEXT", {})
    template = texts.get(rule.tensors[index].shape)
    if template is None:
        return None
    rows, cols = rule.block or (0, 0)
    return str(template).format(group=rule.group_size, rows=rows, cols=cols)


def _dim(d: int) -> str:
    if d == _OUT:
        return "out"
    if d == _IN:
        return "in"
    if d != 1 and _OUT % d == 0:
        return f"out/{_OUT // d}"
    if d != 1 and _IN % d == 0:
        return f"in/{_IN // d}"
    return str(d)


def _meaning(rule: FormatRule, index: int, shape: str) -> str:
    tensor = rule.tensors[index]
    suffix = tensor.suffix
    if tensor.shape == "packed_fp4":
        return "two FP4 (E2M1) values packed in each byte"
    if "scale" not in suffix:
        return str(getattr(tensor, "role", ""))
    if suffix.startswith("input"):
        return "the activation scale found in calibration"
    if rule.block and "out/" in shape:
        return f"one scale per {rule.block[0]} × {rule.block[1]} block"
    last = shape.strip("[]").split(", ")[-1]
    if last.startswith("in/"):
        return f"one scale for each block of {last[3:]} weights"
    if shape.startswith("[out") and last == "1":
        return "one scale for each output channel"
    if "global" in suffix or suffix.endswith("_2"):
        return "the tensor's global scale"
    return getattr(tensor, "role", "") or "the weight's scale"


def tensor_lines(storage: str, source_dtype: str = "BF16") -> list[str]:
    """One Markdown line per tensor a quantized Linear of `storage` is stored as."""
    rule = format_rule(storage)
    lines = []
    for index, tensor in enumerate(rule.tensors):
        dtype = source_dtype if tensor.dtype == SOURCE else tensor.dtype
        shape = shape_text(rule, index)
        meaning = _meaning(rule, index, shape)
        name = f"X{getattr(rule, 'joiner', '.')}{tensor.suffix}"
        head = (
            f"`{name}` — {dtype} scalar"
            if shape == "scalar"
            else f"`{name}` — {dtype}, shape {shape}"
        )
        lines.append(f"{head}: {meaning}." if meaning else f"{head}.")
    return lines


def tensor_facts(storage: str, source_dtype: str = "BF16") -> dict[str, tuple[str, str]]:
    """suffix → (dtype, shape text) for a storage, as tensor_lines states them."""
    rule = format_rule(storage)
    return {
        t.suffix: (source_dtype if t.dtype == SOURCE else t.dtype, shape_text(rule, i))
        for i, t in enumerate(rule.tensors)
    }


def layout_label(storage: str) -> str:
    """How the checkpoint is laid out, from the format table's description of the storage:
    'ModelOpt (quant_method: modelopt)', 'compressed-tensors (float-quantized)', …"""
    description = format_rule(storage).description
    if description.startswith("ModelOpt"):
        return "ModelOpt (quant_method: modelopt)"
    if description.startswith("compressed-tensors "):
        compression = description.split()[1].rstrip(";,:")
        return f"compressed-tensors ({compression})"
    return description.split(":")[0]
