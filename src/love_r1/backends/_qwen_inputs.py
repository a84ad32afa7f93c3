"""Qwen2.5-VL / Qwen3-VL model inputs from love-r1 ``Message`` s: the implementation behind the public
:mod:`love_r1.backends.qwen_inputs` (import from there), plus the per-clip helpers of the hf backend's
cross-step reuse (``process_clip``, ``assemble_prompt_ids``, ``video_token_spans``).

Pure helpers: nothing here owns a model. The conversation is rendered with the processor's own
chat template, and every clip is handed to the processor as pre-decoded, pre-sized ``uint8``
frames plus per-clip ``video_metadata`` (never file paths):

* **Qwen2.5-VL** reads one number per clip from the metadata: the sampling rate, which becomes
  ``second_per_grid_ts = temporal_patch_size / sample_fps`` (seconds per temporal patch; it scales
  the temporal M-RoPE positions). The metadata built here makes the processor compute exactly
  ``2 / Frames.sample_fps`` — the value the reference passes as ``fps=[fast_rate, slow_rate, ...]``.
* **Qwen3-VL** writes ``<t seconds>`` before every frame pair, ``t = frames_indices / fps``. The
  metadata built here gives the frames' times on the run's time base (``fps = 1``), so a zoom
  clip over ``[12, 16)`` says ``<12.2 seconds>``, not ``<0.2 seconds>``, and a variable-frame-rate
  file or an MVBench window says the times the digits and labels say.

Frame sizes: the video engine resizes frames to multiples of 28 px (Qwen2.5-VL's merged patch).
Qwen3-VL needs multiples of 32. The processor is called with ``do_sample_frames=False`` and a pixel
budget wide enough never to bind, so its smart-resize only rounds each clip's own height and width
to the nearest multiple of ``patch_size * merge_size`` (a no-op for Qwen2.5-VL on engine frames; a
re-resize to multiples of 32 for Qwen3-VL). One-frame clips are repeated to two frames for
Qwen3-VL, whose video resize refuses fewer frames than the temporal patch.

The family is dispatched on ``config.model_type`` (``"qwen2_5_vl"``, ``"qwen3_vl"``) through a
private dict, never on model paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from love_r1.backends import Message, TextPart, VideoPart
from love_r1.backends._mrope import (
    DEFAULT_POSITION_RULE,
    PositionRule,
    check_position_rule,
    rope_positions,
    video_blocks,
)

if TYPE_CHECKING:
    import torch

    from love_r1.video import Frames

IGNORE_INDEX = -100
VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")

# Processor class name -> model type, used only when the caller cannot pass ``model_type``.
_PROCESSOR_MODEL_TYPES = {"Qwen2_5_VLProcessor": "qwen2_5_vl", "Qwen3VLProcessor": "qwen3_vl"}


@dataclass(frozen=True)
class _Family:
    uses_second_per_grid_ts: bool  # Qwen2.5-VL: a video is one M-RoPE block, time ids spaced by the sampling rate
    absolute_frame_timestamps: bool  # Qwen3-VL: <t seconds> text from frames_indices / fps
    min_frames: int  # fewest frames the video processor accepts per clip


_FAMILIES: dict[str, _Family] = {
    "qwen2_5_vl": _Family(uses_second_per_grid_ts=True, absolute_frame_timestamps=False, min_frames=1),
    "qwen3_vl": _Family(uses_second_per_grid_ts=False, absolute_frame_timestamps=True, min_frames=2),
}


def supported_model_types() -> tuple[str, ...]:
    return tuple(sorted(_FAMILIES))


def _family(model_type: str) -> _Family:
    family = _FAMILIES.get(model_type)
    if family is None:
        raise ValueError(
            f"model_type={model_type!r} is not supported; expected one of {list(supported_model_types())} "
            "(the 'model_type' field of the checkpoint's config.json)"
        )
    return family


def resolve_model_type(processor: Any, model_type: str | None = None) -> str:
    """``model_type`` when given (validated), else the type implied by the processor's class."""
    if model_type is None:
        name = type(processor).__name__
        model_type = _PROCESSOR_MODEL_TYPES.get(name)
        if model_type is None:
            raise ValueError(
                f"cannot tell the model family of processor class {name!r}; pass model_type= one of "
                f"{list(supported_model_types())} (model.config.model_type)"
            )
    _family(model_type)
    return model_type


# --------------------------------------------------------------------------- messages


def to_hf_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Our messages as the chat-template format: system/assistant text as strings, user parts as a list.

    Videos become ``{"type": "video"}`` placeholders; their frames travel separately (:func:`videos_of`).
    """
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Message):
            raise TypeError(f"messages[{i}] must be a love_r1.backends.Message, got {type(message).__name__}")
        if message.role in ("system", "assistant"):
            if any(isinstance(p, VideoPart) for p in message.content):
                raise ValueError(f"messages[{i}] ({message.role}) holds a video; only user messages may hold videos")
            out.append({"role": message.role, "content": message.text})
            continue
        content: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                content.append({"type": "text", "text": part.text})
            elif isinstance(part, VideoPart):
                content.append({"type": "video"})
            else:
                raise TypeError(f"messages[{i}].content holds {type(part).__name__}; expected TextPart or VideoPart")
        out.append({"role": message.role, "content": content})
    return out


def videos_of(messages: Sequence[Message]) -> list[Frames]:
    """The clips of a conversation in prompt order."""
    return [frames for message in messages for frames in message.videos]


def render_prompt(processor: Any, messages: Sequence[Message], *, assistant_prefix: str = "") -> str:
    """The generation prompt text: chat template with the generation prompt, then ``assistant_prefix``."""
    if messages and messages[-1].role == "assistant":
        raise ValueError("render_prompt: the last message is an assistant turn; pass it as assistant_prefix instead")
    text = processor.apply_chat_template(to_hf_messages(messages), tokenize=False, add_generation_prompt=True)
    return text + assistant_prefix


def render_conversation(processor: Any, messages: Sequence[Message]) -> str:
    """The whole conversation (ending with an assistant turn) as training text.

    Special tokens at the end of an assistant turn (a reply recorded as the reference decodes free
    steps, ``...\\boxed{[3, 9]}<|im_end|>``) are dropped: the chat template closes the turn itself.
    """
    if not messages or messages[-1].role != "assistant":
        raise ValueError("render_conversation: the last message must be the assistant turn (the training target)")
    specials = sorted(set(processor.tokenizer.all_special_tokens), key=len, reverse=True)
    conversation = to_hf_messages(messages)
    for turn in conversation:
        if turn["role"] == "assistant":
            turn["content"] = _without_trailing(turn["content"], specials)
    return processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=False)


def _without_trailing(text: str, tokens: Sequence[str]) -> str:
    stripped = True
    while stripped:
        stripped = False
        for token in tokens:
            if token and text.endswith(token):
                text, stripped = text[: -len(token)], True
    return text


# --------------------------------------------------------------------------- video metadata


def clip_sample_fps(frames: Frames) -> float:
    """The rate given to the processor: ``Frames.sample_fps``, else derived from the timestamps.

    For ad-hoc frames without ``sample_fps``: frames per second of content spanned, the reference's
    ``n / (b - a) * fps`` expressed in seconds (``n / (t_last - t_first)``).
    """
    if frames.sample_fps is not None:
        if not frames.sample_fps > 0:
            raise ValueError(f"Frames.sample_fps must be > 0, got {frames.sample_fps} ({frames!r})")
        return float(frames.sample_fps)
    ts = frames.timestamps_seconds
    span_seconds = float(ts[-1] - ts[0]) if len(ts) else 0.0
    if span_seconds > 0:
        return len(ts) / span_seconds
    if frames.source_fps:
        return float(frames.source_fps)
    raise ValueError(
        f"cannot derive a sampling rate for {frames!r}: no sample_fps, no source_fps and a zero time span; "
        "set Frames.sample_fps"
    )


def video_metadata(frames: Frames, *, model_type: str) -> dict[str, Any]:
    """The ``video_metadata`` entry for one clip, built so that the processor derives the right numbers.

    * ``qwen2_5_vl``: ``fps = sample_fps`` with ``len(frames_indices) == total_num_frames``, so the
      processor's ``sampled_fps`` is exactly ``sample_fps`` and ``second_per_grid_ts = 2 / sample_fps``.
    * ``qwen3_vl``: ``frames_indices`` = the frames' times in seconds (``Frames.timestamps_seconds``, on
      the run's time base and measured from the start of the video or of its window) with ``fps = 1``, so
      ``<t seconds>`` are the times the frames were shown — the same numbers the burned-in digits and the
      clip labels give (on a constant-frame-rate file: ``index / fps``, qwen-vl-utils' numbers).
    """
    family = _family(model_type)
    n = frames.num_frames
    if n < 1:
        raise ValueError(f"a clip needs at least one frame, got {frames!r}")
    meta: dict[str, Any] = {"height": frames.height, "width": frames.width}
    if family.absolute_frame_timestamps:
        indices = [float(t) for t in frames.timestamps_seconds]
        fps = 1.0
        if n < family.min_frames:
            indices = indices + [indices[-1]] * (family.min_frames - n)
        meta.update(fps=fps, frames_indices=indices, total_num_frames=max(n, family.min_frames),
                    duration=float(frames.timestamps_seconds[-1] - frames.timestamps_seconds[0]))
        return meta
    sample_fps = clip_sample_fps(frames)
    meta.update(fps=sample_fps, frames_indices=list(range(n)), total_num_frames=n, duration=n / sample_fps)
    return meta


def _clip_array(frames: Frames, *, model_type: str) -> np.ndarray:
    family = _family(model_type)
    data = frames.data
    if data.shape[0] < family.min_frames:
        data = np.concatenate([data] + [data[-1:]] * (family.min_frames - data.shape[0]))
    return data


def video_processor_kwargs(processor: Any) -> dict[str, Any]:
    """Processor call kwargs that keep pre-decoded, pre-sized frames as given (up to rounding).

    No re-sampling (``do_sample_frames=False``) and a pixel budget that never binds, so each clip's
    sides are only rounded to multiples of ``patch_size * merge_size`` (28 or 32).
    """
    vp = processor.video_processor
    multiple = int(vp.patch_size) * int(vp.merge_size)
    return {"do_sample_frames": False, "size": {"shortest_edge": multiple * multiple, "longest_edge": 1 << 40}}


# --------------------------------------------------------------------------- token helpers


def vision_token_ids(tokenizer: Any) -> list[int]:
    """Ids of ``<|vision_start|>``, ``<|vision_end|>``, ``<|image_pad|>``, ``<|video_pad|>``."""
    ids = tokenizer.convert_tokens_to_ids(list(VISION_TOKENS))
    unk = getattr(tokenizer, "unk_token_id", None)
    missing = [t for t, i in zip(VISION_TOKENS, ids, strict=True) if i is None or (unk is not None and i == unk)]
    if missing:
        raise ValueError(f"the tokenizer lacks the Qwen vision tokens {missing}; is this a Qwen-VL processor?")
    return [int(i) for i in ids]


def mm_token_type_ids(input_ids: torch.Tensor, config: Any) -> torch.Tensor:
    """0 for text, 1 for image placeholders, 2 for video placeholders (what the processor returns).

    Every forward that carries grids needs it (Qwen2.5-VL silently drops M-RoPE without it).
    """
    import torch

    types = torch.zeros_like(input_ids)
    types[input_ids == config.image_token_id] = 1
    types[input_ids == config.video_token_id] = 2
    return types


def mrope_position_ids(
    input_ids: torch.Tensor,
    *,
    config: Any,
    position_rule: PositionRule = DEFAULT_POSITION_RULE,
    attention_mask: torch.Tensor | None = None,
    video_grid_thw: torch.Tensor | None = None,
    second_per_grid_ts: torch.Tensor | None = None,
) -> torch.Tensor:
    """The ``[3, batch, length]`` M-RoPE position ids to pass as ``position_ids`` (see :mod:`._mrope`).

    ``config`` is the model's config (``model_type``, token ids, ``vision_config.spatial_merge_size``
    and, for Qwen2.5-VL, ``vision_config.tokens_per_second``). The other arguments are the
    processor's batch entries of the same names (left or right padding). Tokens appended to a row
    (a completion) continue its text positions, so generation and training see the same ids.
    """
    check_position_rule(position_rule)
    family = _family(config.model_type)
    vision = config.vision_config
    blocks = video_blocks(
        video_grid_thw, second_per_grid_ts, spatial_merge_size=int(vision.spatial_merge_size),
        tokens_per_second=int(vision.tokens_per_second) if family.uses_second_per_grid_ts else 1,
        frame_pair_blocks=not family.uses_second_per_grid_ts,
    )
    return rope_positions(input_ids, blocks=blocks, video_token_id=int(config.video_token_id),
                          image_token_id=int(config.image_token_id), rule=position_rule,
                          attention_mask=attention_mask)


def video_token_spans(
    input_ids: Sequence[int] | np.ndarray, *, video_token_id: int, tokens_per_video: Sequence[int]
) -> list[tuple[int, int]]:
    """``[(first, last + 1), ...]``: the positions of each video's placeholder tokens in one sequence.

    ``tokens_per_video[i] = video_grid_thw[i].prod() // merge_size**2``. A Qwen3-VL video spans
    several placeholder runs (one per frame pair, with timestamp text between them).
    """
    ids = np.asarray(input_ids)
    positions = np.flatnonzero(ids == video_token_id)
    total = int(sum(tokens_per_video))
    if len(positions) != total:
        raise ValueError(
            f"{len(positions)} video placeholder tokens in the sequence but the grids account for {total}"
        )
    spans = []
    offset = 0
    for count in tokens_per_video:
        count = int(count)
        if count < 1:
            raise ValueError(f"tokens_per_video holds {count}; every video has at least one token")
        spans.append((int(positions[offset]), int(positions[offset + count - 1]) + 1))
        offset += count
    return spans


def tokens_per_video(video_grid_thw: torch.Tensor, *, merge_size: int) -> list[int]:
    return [int(n) for n in (video_grid_thw.prod(-1) // (merge_size * merge_size)).tolist()]


# --------------------------------------------------------------------------- batches


def _process(
    processor: Any,
    *,
    texts: list[str],
    clips: list[Frames],
    model_type: str,
    padding_side: Literal["left", "right"],
) -> Any:
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side={padding_side!r} is not one of 'left', 'right'")
    kwargs: dict[str, Any] = dict(text=texts, return_tensors="pt", padding=True, padding_side=padding_side)
    if clips:
        kwargs.update(
            videos=[_clip_array(f, model_type=model_type) for f in clips],
            video_metadata=[video_metadata(f, model_type=model_type) for f in clips],
            **video_processor_kwargs(processor),
        )
    return processor(**kwargs)


def build_generation_inputs(
    processor: Any,
    conversations: Sequence[Sequence[Message]],
    *,
    model_type: str | None = None,
    assistant_prefixes: Sequence[str] | None = None,
    padding_side: Literal["left", "right"] = "left",
) -> Any:
    """Processor inputs (a ``BatchFeature``) for a batch of prompts, left-padded for generation.

    Keys: ``input_ids``, ``attention_mask``, ``mm_token_type_ids`` and, when any clip is present,
    ``pixel_values_videos``, ``video_grid_thw`` (clips of all conversations in order) and, for
    Qwen2.5-VL, ``second_per_grid_ts`` (``2 / sample_fps`` per clip). Pass all of them to the model.
    """
    model_type = resolve_model_type(processor, model_type)
    prefixes = list(assistant_prefixes) if assistant_prefixes is not None else [""] * len(conversations)
    if len(prefixes) != len(conversations):
        raise ValueError(f"{len(prefixes)} assistant_prefixes for {len(conversations)} conversations")
    if not conversations:
        raise ValueError("build_generation_inputs needs at least one conversation")
    texts = [render_prompt(processor, c, assistant_prefix=p) for c, p in zip(conversations, prefixes, strict=True)]
    clips = [f for c in conversations for f in videos_of(c)]
    return _process(processor, texts=texts, clips=clips, model_type=model_type, padding_side=padding_side)


def build_training_inputs(
    processor: Any,
    conversations: Sequence[Sequence[Message]],
    *,
    model_type: str | None = None,
    assistant_prefixes: Sequence[str] | None = None,
    loss_on_prompt: bool = False,
    padding_side: Literal["left", "right"] = "right",
) -> Any:
    """Processor inputs plus ``labels`` for conversations that end with the target assistant turn.

    Labels (``-100`` = ignored):

    * default (assistant-only): the tokens of every assistant turn, from its first content token
      through ``<|im_end|>`` inclusive (one turn, or several in a multi-turn record); a leading
      ``assistant_prefixes[i]`` of the last turn (text pre-filled at inference, e.g. the
      forced-answer phrase) is ignored too.
    * ``loss_on_prompt=True`` reproduces the reference (``sft_video.py``): every token except padding
      and the vision special tokens (``<|vision_start|>``, ``<|vision_end|>``, ``<|image_pad|>``,
      ``<|video_pad|>``), prompt text included.
    """
    import torch

    model_type = resolve_model_type(processor, model_type)
    if not conversations:
        raise ValueError("build_training_inputs needs at least one conversation")
    prefixes = list(assistant_prefixes) if assistant_prefixes is not None else [""] * len(conversations)
    if len(prefixes) != len(conversations):
        raise ValueError(f"{len(prefixes)} assistant_prefixes for {len(conversations)} conversations")
    texts = []
    for i, (conversation, prefix) in enumerate(zip(conversations, prefixes, strict=True)):
        text = render_conversation(processor, conversation)
        if prefix and not conversation[-1].text.startswith(prefix):
            raise ValueError(
                f"conversations[{i}]: the assistant turn does not start with assistant_prefixes[{i}]={prefix!r}"
            )
        texts.append(text)
    clips = [f for c in conversations for f in videos_of(c)]
    batch = _process(processor, texts=texts, clips=clips, model_type=model_type, padding_side=padding_side)
    input_ids = batch["input_ids"]
    tokenizer = processor.tokenizer
    labels = input_ids.clone()
    labels[batch["attention_mask"] == 0] = IGNORE_INDEX
    if loss_on_prompt:
        if tokenizer.pad_token_id is not None:
            labels[input_ids == tokenizer.pad_token_id] = IGNORE_INDEX
        for token_id in vision_token_ids(tokenizer):
            labels[input_ids == token_id] = IGNORE_INDEX
        batch["labels"] = labels
        return batch
    header = tokenizer.encode("<|im_start|>assistant\n", add_special_tokens=False)
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    masked = torch.full_like(input_ids, IGNORE_INDEX)
    for row in range(input_ids.shape[0]):
        ids = input_ids[row].tolist()
        starts = _occurrences(ids, header)
        if not starts:
            raise ValueError(f"conversations[{row}]: no assistant header {header} found in the rendered tokens")
        for turn, start in enumerate(starts):  # every assistant turn (multi-turn records train them all)
            start += len(header)
            if prefixes[row] and turn == len(starts) - 1:
                prefix_ids = tokenizer.encode(prefixes[row], add_special_tokens=False)
                if ids[start:start + len(prefix_ids)] != prefix_ids:
                    raise ValueError(
                        f"conversations[{row}]: assistant_prefixes[{row}]={prefixes[row]!r} does not tokenize to the "
                        "start of the assistant turn (a token merges across its end); end the prefix with whitespace"
                    )
                start += len(prefix_ids)
            try:
                end = ids.index(im_end, start) + 1
            except ValueError:
                raise ValueError(f"conversations[{row}]: the assistant turn has no <|im_end|>") from None
            masked[row, start:end] = input_ids[row, start:end]
    batch["labels"] = masked
    return batch


# --------------------------------------------------------------------------- per-clip inputs (cache reuse)

VIDEO_SLOT = "<|vision_start|><|video_pad|><|vision_end|>"  # what the chat templates write per video


@dataclass
class ClipInputs:
    """One clip processed on its own: its expanded token segment and its vision inputs.

    ``token_ids`` is what the processor turns the template's ``<|vision_start|><|video_pad|><|vision_end|>``
    into for this clip (Qwen3-VL: with the ``<t seconds>`` text). ``pixel_values`` may be dropped
    (``None``) once the clip's features are cached.
    """

    token_ids: list[int]
    grid_thw: Any  # LongTensor [3]
    second_per_grid_ts: Any  # tensor [1] (Qwen2.5-VL) or None
    pixel_values: Any  # tensor [patches, dim] or None


def process_clip(processor: Any, frames: Frames, *, model_type: str) -> ClipInputs:
    """Run the processor on one clip alone (the pixel work is then reusable across prompts)."""
    batch = _process(processor, texts=[VIDEO_SLOT], clips=[frames], model_type=model_type, padding_side="left")
    sptg = batch.get("second_per_grid_ts")
    return ClipInputs(token_ids=batch["input_ids"][0].tolist(), grid_thw=batch["video_grid_thw"][0],
                      second_per_grid_ts=sptg.reshape(1) if sptg is not None else None,
                      pixel_values=batch["pixel_values_videos"])


def assemble_prompt_ids(
    processor: Any, messages: Sequence[Message], *, clip_inputs: Sequence[ClipInputs], assistant_prefix: str = ""
) -> list[int]:
    """The prompt's token ids from the rendered text and per-clip segments (no pixel work).

    Equal to ``build_generation_inputs(...)["input_ids"]`` for one prompt (tested): every video slot
    is delimited by special tokens, so tokenizing the text between slots separately changes nothing.
    """
    text = render_prompt(processor, messages, assistant_prefix=assistant_prefix)
    pieces = text.split(VIDEO_SLOT)
    if len(pieces) - 1 != len(clip_inputs):
        raise ValueError(f"the rendered prompt has {len(pieces) - 1} video slots but {len(clip_inputs)} clips were given")
    tokenizer = processor.tokenizer
    ids: list[int] = []
    for i, piece in enumerate(pieces):
        if piece:
            ids.extend(tokenizer.encode(piece, add_special_tokens=False))
        if i < len(clip_inputs):
            ids.extend(clip_inputs[i].token_ids)
    return ids


def _occurrences(ids: list[int], pattern: list[int]) -> list[int]:
    n = len(pattern)
    return [i for i in range(len(ids) - n + 1) if ids[i:i + n] == pattern]


__all__ = [
    "IGNORE_INDEX", "VIDEO_SLOT", "VISION_TOKENS", "ClipInputs", "assemble_prompt_ids", "build_generation_inputs",
    "build_training_inputs", "clip_sample_fps", "mm_token_type_ids", "process_clip", "render_conversation",
    "render_prompt", "resolve_model_type", "supported_model_types", "to_hf_messages", "tokens_per_video",
    "video_metadata", "video_processor_kwargs", "video_token_spans", "videos_of", "vision_token_ids",
]
