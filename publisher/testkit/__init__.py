"""The test kit: builders of REAL test checkpoints for the tests, the benchmarks and the demo.

Not part of publisher's runtime API: nothing that lints, renders, validates, audits or pushes
imports it. Building models needs the `testkit` extra (torch, nvidia-modelopt):
`pip install "publisher[testkit]"` (the `dev` extra has the same packages).

- `tiny`: tiny real Qwen3.5 dense / MoE models (transformers), full-size configs, meta-device
  names and shapes (`saved_tensor_shapes`, `module_inventory`), a disk cache helper.
- `families`: tiny real models of every other profiled family (Llama, Qwen3, DeepSeek-V3,
  GLM, gpt-oss, Nemotron-H, Gemma 3, …) and their genuine ModelOpt exports.
- `modelopt_export`: genuine ModelOpt NVFP4 / FP8 exports of tiny models on the CPU.
- `compressed_tensors`: the compressed-tensors NVFP4 layout converted from a ModelOpt export.
- `sparse`: full-size sharded checkpoints whose data regions are holes (no disk used).
- `producer_configs`: the quantization configs ModelOpt / compressed-tensors / FP8 exports write.

Importing this package imports nothing heavy; torch/transformers/modelopt load lazily.
Measured facts behind the builders: `FACTS.md` in this directory.
"""
