"""The model spec as pydantic models: pure data, no I/O. Unknown keys are rejected everywhere."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_PARAMS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMBT]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def parse_param_count(value: Any) -> float:
    """'27B' → 27e9, '0.8B' → 8e8, 350_000_000 → 3.5e8."""
    if isinstance(value, bool):
        raise ValueError("a parameter count is a number or a string like '27B'")
    if isinstance(value, int | float):
        return float(value)
    match = _PARAMS.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a parameter count; write e.g. 27B, 0.8B or 350M")
    return float(match.group(1)) * _SCALE[match.group(2).upper()]


def format_param_count(count: float) -> str:
    """27e9 → '27B', 8e8 → '0.8B', 3.5e8 → '350M'."""
    tenths_of_billion = 10**8 <= count < 10**9 and count % 10**8 == 0
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale or (suffix == "B" and tenths_of_billion):
            value = count / scale
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(int(count))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


ParamCount = Annotated[str, BeforeValidator(lambda v: v if isinstance(v, str) else str(v))]


class Credit(Strict):
    name: str
    role: str | None = None
    url: str | None = None


class HubMetadata(Strict):
    base_model: list[str] = Field(default_factory=list, description="base model repo ids")
    base_model_relation: Literal["quantized", "finetune", "adapter", "merge"] | None = None
    license: str
    license_name: str | None = None
    license_link: str | None = None
    pipeline_tag: str
    library_name: str
    tags: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)
    private: bool = False


class Parameters(Strict):
    total: ParamCount = Field(description="e.g. 27B")
    active: ParamCount | None = Field(default=None, description="for MoE, e.g. 3B")

    @field_validator("total", "active")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        if value is not None:
            parse_param_count(value)
        return value

    @property
    def total_count(self) -> float:
        return parse_param_count(self.total)

    @property
    def active_count(self) -> float | None:
        return None if self.active is None else parse_param_count(self.active)


class GatedDeltaNet(Strict):
    v_heads: int = Field(gt=0)
    qk_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)


class GatedAttention(Strict):
    """The attention heads (every family has them; the profile names the kind of attention)."""

    q_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    rotary_dim: int | None = Field(default=None, gt=0)
    sliding_window: int | None = Field(
        default=None, gt=0, description="tokens a sliding-window attention layer sees"
    )


class DenseFFN(Strict):
    intermediate_size: int = Field(gt=0)


class MixtureOfExperts(Strict):
    experts: int = Field(gt=0)
    routed: int = Field(gt=0, description="experts activated per token")
    shared: int = Field(ge=0, description="shared experts")
    expert_intermediate_size: int = Field(gt=0)
    shared_intermediate_size: int | None = Field(default=None, gt=0)


class Context(Strict):
    native: int = Field(gt=0)
    extended: int | None = Field(default=None, gt=0)


class VisionEncoder(Strict):
    """The vision encoder; leave depth/hidden_size unset when the source does not state them
    (components that need them then cannot be derived, and lint says so)."""

    depth: int | None = Field(default=None, gt=0)
    hidden_size: int | None = Field(default=None, gt=0)
    intermediate_size: int | None = Field(default=None, gt=0)
    heads: int | None = Field(default=None, gt=0)


class MultiTokenPrediction(Strict):
    trained: bool = True
    shipped: bool = Field(
        default=False, description="whether the checkpoint carries the MTP tensors"
    )
    note: str | None = None


class Architecture(Strict):
    profile: str = Field(
        description="architecture profile: a packaged name (llama, deepseek_v3, …) or a "
        "profile .yaml file in the spec's repository"
    )
    type: str | None = Field(
        default=None, description="e.g. Causal Language Model with Vision Encoder"
    )
    training_stage: str | None = None
    parameters: Parameters
    hidden_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0, description="vocabulary size as config.json states it")
    num_layers: int = Field(gt=0)
    layout: str = Field(
        description="e.g. 3 × (MLA → FFN) → 58 × (MLA → MoE); block names are the profile's"
    )
    deltanet: GatedDeltaNet | None = None
    attention: GatedAttention
    ffn: DenseFFN | None = None
    moe: MixtureOfExperts | None = None
    lm_output: Literal["tied", "separate"]
    mtp: MultiTokenPrediction | None = None
    context: Context
    vision: VisionEncoder | None = None
    modalities: list[str] = Field(default_factory=list)
    dims: dict[str, int] = Field(
        default_factory=dict,
        description="further sizes the profile's shapes use (MLA ranks, Mamba state, …)",
    )
    options: dict[str, bool] = Field(
        default_factory=dict, description="yes/no facts the profile declares (e.g. qk_norm)"
    )

    @model_validator(mode="after")
    def _ffn_or_moe(self) -> Architecture:
        if self.ffn is None and self.moe is None:
            raise ValueError(
                "give 'ffn' (dense), 'moe' (mixture of experts), or both for a stack of dense "
                "then MoE layers"
            )
        return self


Precision = Literal["nvfp4", "mxfp4", "fp8", "bf16", "f16", "f32"]


class Producer(Strict):
    tool: str = Field(description="e.g. nvidia-modelopt or llm-compressor")
    version: str
    recipe: str | None = Field(default=None, description="e.g. NVFP4_DEFAULT_CFG")


class Calibration(Strict):
    dataset: str
    config: str | None = None
    split: str | None = None
    samples: int = Field(gt=0)
    sequence_length: int = Field(gt=0)


class ComponentEntry(Strict):
    component: str = Field(description="a component id of the architecture profile")
    modules: list[str] | None = Field(
        default=None, description="only these module names of the component (default: all)"
    )
    precision: Precision
    count: int | None = Field(
        default=None,
        ge=0,
        description="declared count; checked against the derivation (omit to use it)",
    )
    label: str | None = None
    description: str | None = None
    reason: str | None = Field(default=None, description="why it stayed in higher precision")


class ProcessStep(Strict):
    title: str
    text: str
    code: str | None = None
    language: str = "python"


class Quantization(Strict):
    format: Literal["nvfp4", "mxfp4", "fp8", "fp8_channel", "fp8_block"]
    producer: Producer
    export_format: Literal["modelopt", "compressed-tensors"] = "modelopt"
    calibration: Calibration | None = None
    group_size: int | None = Field(default=None, gt=0)
    block_size: list[Annotated[int, Field(gt=0)]] | None = Field(
        default=None, min_length=2, max_length=2
    )
    quantized_total: int | None = Field(
        default=None, ge=0, description="total quantized count to state; checked against the sum"
    )
    components: list[ComponentEntry] = Field(default_factory=list)
    process: list[ProcessStep] = Field(default_factory=list)
    hardware: str | None = None


Score = float | int | str | None


def _row_from_list(value: Any) -> Any:
    if isinstance(value, list | tuple) and value and isinstance(value[0], str):
        return {"name": value[0], "scores": list(value[1:])}
    return value


class BenchmarkRow(Strict):
    name: str
    scores: list[Score | list[Score]]
    note: str | None = None


class BenchmarkSection(Strict):
    title: str | None = None
    rows: list[Annotated[BenchmarkRow, BeforeValidator(_row_from_list)]]


class BenchmarkColumn(Strict):
    label: str
    role: Literal["base", "released", "other"] = "other"


class BenchmarkTable(Strict):
    title: str
    columns: list[BenchmarkColumn] = Field(min_length=1)
    pair_labels: list[str] | None = Field(
        default=None, description="labels of paired scores, e.g. [Thinking, Non-thinking]"
    )
    recovery: bool = Field(default=False, description="add a recovery % column (released / base)")
    sections: list[BenchmarkSection] = Field(min_length=1)
    footnotes: list[str] = Field(default_factory=list)


class ServingCommand(Strict):
    title: str
    command: str


class ServingEngine(Strict):
    engine: str
    version: str | None = None
    install: str | None = None
    commands: list[ServingCommand] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SamplingPreset(Strict):
    mode: str
    params: dict[str, float | int]


class Serving(Strict):
    engines: list[ServingEngine] = Field(default_factory=list)
    sampling: list[SamplingPreset] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    example_prompt: str | None = None
    served_model_name: str | None = None


class EnvironmentItem(Strict):
    name: str
    version: str


class Citation(Strict):
    key: str
    title: str
    author: str
    year: int
    url: str | None = None
    month: str | None = None


class CardOptions(Strict):
    template: str = Field(default="default", description="a template name in templates/")
    overrides: dict[str, str] = Field(
        default_factory=dict, description="partial name → template path inside the repository"
    )


class ModelSpec(Strict):
    schema_ref: str | None = Field(default=None, alias="$schema")
    extends: str | None = None
    name: str
    repo_id: str
    summary: str = Field(description="one paragraph, in our words")
    highlights: list[str] = Field(default_factory=list)
    hub: HubMetadata
    credits: list[Credit] = Field(default_factory=list)
    architecture: Architecture
    quantization: Quantization | None = None
    benchmarks: list[BenchmarkTable] = Field(default_factory=list)
    serving: Serving | None = None
    environment: list[EnvironmentItem] = Field(default_factory=list)
    license_note: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    card: CardOptions = Field(default_factory=CardOptions)
    extra_files: list[str] = Field(default_factory=list)

    @property
    def is_quantized(self) -> bool:
        return self.quantization is not None
