"""One module per CLI command. Each exposes NAME, HELP, configure(parser) and run(args) -> int.

Command modules must stay light at import time: heavy libraries (transformers, torch,
huggingface_hub) are imported inside run(), so `publisher --help` starts fast.
"""

COMMAND_MODULES: tuple[str, ...] = (
    "lint",
    "schema",
    "render",
    "preview",
    "validate",
    "audit",
    "init",
    "codes",
    "demo",
    "check_card",
    "push",
    "hub",
    "release",
    "sign",
    "verify",
    "diff",
    "profile",
)
