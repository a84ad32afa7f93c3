"""The backend contract: one batched ``generate(requests) -> generations`` (re-exported by ``love_r1.backends``).

Only dataclasses and a Protocol live here, so ``agent``, ``eval`` and ``train`` can type
against it without importing torch, vLLM or an HTTP client. Concrete backends are in
their own modules (``hf``, ``openai_http``, ``vllm``, ``scripted``) and are imported by the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, runtime_checkable

if TYPE_CHECKING:
    from love_r1.video import Frames

Role = Literal["system", "user", "assistant"]

# The checkpoint loaded when none is named: the released stage-3 LOVE-R1 model (README of HumanMLLM/LOVE-R1).
DEFAULT_MODEL_ID = "iSEE-Laboratory/love-r1-stage3"

# How the OpenAI-compatible backend sends clips and the forced answer's prefix (love_r1.backends.openai_http).
# Defined here, with no dependency, so the command line can offer them without the `openai` extra.
VideoMode = Literal["frames_as_images", "video_url"]
PrefixMode = Literal["continue_final_message", "strip"]


@dataclass(frozen=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, eq=False)
class VideoPart:
    """A clip shown to the model. ``frames.sample_fps`` is the rate given to the processor;
    ``frames.key`` identifies the clip for cross-step feature reuse."""

    frames: Frames
    type: Literal["video"] = "video"


ContentPart = TextPart | VideoPart


@dataclass(frozen=True)
class Message:
    role: Role
    content: tuple[ContentPart, ...]

    def __post_init__(self) -> None:
        if self.role not in get_args(Role):
            raise ValueError(f"Message.role must be one of {list(get_args(Role))}; got {self.role!r}")
        if isinstance(self.content, str):
            object.__setattr__(self, "content", (TextPart(self.content),))
        else:
            object.__setattr__(self, "content", tuple(self.content))

    @property
    def text(self) -> str:
        """The concatenated text parts (videos omitted)."""
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def videos(self) -> list[Frames]:
        return [p.frames for p in self.content if isinstance(p, VideoPart)]


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings. ``temperature == 0`` means greedy.

    Defaults are the reference inference settings (near-greedy, ≤ 2048 new tokens).
    """

    max_new_tokens: int = 2048
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None
    num_return_sequences: int = 1

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"SamplingParams.max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"SamplingParams.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingParams.top_p must be in (0, 1], got {self.top_p}")
        if self.num_return_sequences < 1:
            raise ValueError(f"SamplingParams.num_return_sequences must be >= 1, got {self.num_return_sequences}")


@dataclass(frozen=True)
class GenerationRequest:
    """One model call.

    Attributes:
        messages: the conversation (system, then one user turn in the LOVE-R1 protocol).
        assistant_prefix: text pre-filled at the start of the assistant turn (the forced
            answer uses ``"I get the answer.\\n\\n"``); the returned text excludes it.
        sampling: decoding settings.
        session_id: requests with the same id may share cached state (vision features of
            clips with the same ``Frames.key``, the KV cache of a common token prefix).
        skip_special_tokens: ``False`` keeps special tokens (such as the closing ``<|im_end|>``)
            in ``Generation.text``, as the reference decodes its free steps. Backends that decode
            tokens themselves (hf, vllm) honour it; replies that come as text (openai, scripted)
            are returned as they come.
    """

    messages: tuple[Message, ...]
    assistant_prefix: str = ""
    sampling: SamplingParams = field(default_factory=SamplingParams)
    session_id: str | None = None
    skip_special_tokens: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        if not self.messages:
            raise ValueError("GenerationRequest.messages is empty; give at least one user message")


@dataclass(frozen=True)
class TokenUsage:
    """What one call cost. Seconds are wall-clock; counts are tokens unless named otherwise."""

    prompt_tokens: int = 0
    prompt_tokens_cached: int = 0
    completion_tokens: int = 0
    vision_tokens: int = 0
    vision_frames_encoded: int = 0
    vision_frames_cached: int = 0
    encode_seconds: float = 0.0
    prefill_seconds: float = 0.0
    generate_seconds: float = 0.0

    @property
    def prompt_tokens_computed(self) -> int:
        return self.prompt_tokens - self.prompt_tokens_cached

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class Generation:
    """A model reply: text (without the assistant prefix), usage and the raw backend output."""

    text: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: Literal["stop", "length", "error"] = "stop"
    raw: Any = None


class BackendError(RuntimeError):
    """An infrastructure fault (server down, out of memory, bad checkpoint). Never a bad model reply."""


@runtime_checkable
class Backend(Protocol):
    """Anything with a batched ``generate``. ``len(result) == len(requests)``, in order."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]: ...
