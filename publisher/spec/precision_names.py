"""How each precision is written, in one place.

Reports (validate, audit) name precisions the way safetensors headers name dtypes (F16, F32),
since they sit next to those dtypes; cards use the names model cards use (FP16, FP32).
"""

from __future__ import annotations

REPORT_LABELS: dict[str, str] = {
    "nvfp4": "NVFP4",
    "mxfp4": "MXFP4",
    "fp8": "FP8",
    "bf16": "BF16",
    "f16": "F16",
    "f32": "F32",
    "f64": "F64",
    "missing": "missing",
}
CARD_LABELS: dict[str, str] = {**REPORT_LABELS, "f16": "FP16", "f32": "FP32", "f64": "FP64"}
