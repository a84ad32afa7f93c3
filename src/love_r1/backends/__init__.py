"""The backend contract: one batched ``generate(requests) -> generations``.

Only dataclasses and a Protocol are exported here (``_contract.py``), so ``agent``, ``eval`` and
``train`` type against it without importing torch, vLLM or an HTTP client. The concrete backends
are the modules ``hf``, ``openai_http``, ``vllm`` and ``scripted``; the CLI constructs them.
"""

from love_r1.backends._contract import (
    DEFAULT_MODEL_ID,
    Backend,
    BackendError,
    ContentPart,
    Generation,
    GenerationRequest,
    Message,
    PrefixMode,
    Role,
    SamplingParams,
    TextPart,
    TokenUsage,
    VideoMode,
    VideoPart,
)

__all__ = [
    "DEFAULT_MODEL_ID", "Backend", "BackendError", "ContentPart", "Generation", "GenerationRequest", "Message",
    "PrefixMode", "Role", "SamplingParams", "TextPart", "TokenUsage", "VideoMode", "VideoPart",
]
