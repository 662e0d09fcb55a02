"""Genuine ModelOpt exports of tiny Qwen3.5 models, on the CPU.

`mtq.quantize(model, mtq.NVFP4_DEFAULT_CFG, forward_loop)` calibrated on a few random token
batches, then `export_hf_checkpoint(model, dtype=torch.bfloat16, export_dir=...)`. The only
workaround needed: a freshly built model has `config.architectures = None`, which ModelOpt
0.47's `is_multimodal_model` iterates (TypeError); `build_tiny_model` sets it, as
`from_pretrained` would. torch/transformers/modelopt are imported lazily.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

from publisher.testkit.tiny import Kind, build_tiny_model, cache_key, cached_dir

QUANT_CONFIGS: dict[str, str] = {
    "nvfp4": "NVFP4_DEFAULT_CFG",
    "fp8": "FP8_DEFAULT_CFG",
    "fp8_channel": "FP8_PER_CHANNEL_PER_TOKEN_CFG",
}


def _mtq() -> Any:
    with warnings.catch_warnings():  # "transformers 5.23.0 is not tested with ... modelopt"
        warnings.simplefilter("ignore")
        import modelopt.torch.quantization as mtq
    return mtq


def calibration_batches(
    vocab_size: int, count: int = 1, seq_len: int = 32, seed: int = 0
) -> list[Any]:
    """Seeded random token batches [2, seq_len] for calibration."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab_size, (2, seq_len), generator=gen) for _ in range(count)]


def quantize_model(model: Any, qformat: str = "nvfp4", *, batches: list[Any] | None = None) -> Any:
    """mtq.quantize with ModelOpt's default config for `qformat`, max-calibrated on `batches`."""
    import torch

    if qformat not in QUANT_CONFIGS:
        raise ValueError(f"qformat must be one of {sorted(QUANT_CONFIGS)}, got {qformat!r}")
    mtq = _mtq()
    vocab = model.config.get_text_config().vocab_size
    batches = calibration_batches(vocab) if batches is None else batches

    def forward_loop(m: Any) -> None:
        with torch.no_grad():
            for ids in batches:
                m(input_ids=ids)

    with contextlib.redirect_stdout(io.StringIO()):
        return mtq.quantize(model, getattr(mtq, QUANT_CONFIGS[qformat]), forward_loop)


def export_checkpoint(model: Any, export_dir: str | os.PathLike[str]) -> Path:
    """export_hf_checkpoint(model, dtype=torch.bfloat16, export_dir=...)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from modelopt.torch.export import export_hf_checkpoint
    out = Path(export_dir)
    with contextlib.redirect_stdout(io.StringIO()), torch.inference_mode():
        export_hf_checkpoint(model, dtype=torch.bfloat16, export_dir=str(out))
    return out


def export_tiny(
    export_dir: str | os.PathLike[str],
    kind: Kind = "dense",
    qformat: str = "nvfp4",
    *,
    seed: int = 0,
    **tiny_kwargs: Any,
) -> Path:
    """Build a tiny model, quantize it with ModelOpt and export it into `export_dir`."""
    model = build_tiny_model(kind=kind, seed=seed, **tiny_kwargs)
    quantize_model(model, qformat, batches=calibration_batches(model.config.text_config.vocab_size))
    return export_checkpoint(model, export_dir)


def cached_export(
    kind: Kind,
    cache_dir: str | os.PathLike[str],
    qformat: str = "nvfp4",
    **tiny_kwargs: Any,
) -> Path:
    """A tiny ModelOpt export, built once per (kind, format, params, versions)."""
    key = cache_key(
        f"modelopt-{qformat}-{kind}", modelopt=version("nvidia-modelopt"), **tiny_kwargs
    )
    return cached_dir(cache_dir, key, lambda d: export_tiny(d, kind, qformat, **tiny_kwargs))
