"""Tiny, randomly initialised Qwen2.5-VL and Qwen3-VL checkpoints, built offline (no download).

``love-r1 synth tiny-model --out DIR --model-type qwen2_5_vl`` writes a folder that every love-r1
command loading a model accepts (``--model DIR``: ``ask``, ``eval``, ``train``): real model classes,
the real processors and the official Qwen chat templates, random weights of 0.26-0.30 M
parameters (about 1.2 MB). Outputs are meaningless; the mechanics (tokenisation, video
placeholders, M-RoPE, generation, training steps) are the production ones, so the whole no-GPU
path runs in seconds on a laptop.

* a byte-level BPE tokenizer trained on a few KB of built-in text and wrapped in
  ``transformers.Qwen2Tokenizer`` with the Qwen special tokens;
* the real image and video processors, configured from arguments, with the official Qwen chat
  templates that ship inside the ``trl`` wheel (extra ``train``);
* a small config and a randomly initialised ``Qwen2_5_VLForConditionalGeneration`` or
  ``Qwen3VLForConditionalGeneration``.

Building is deterministic: the same ``seed`` gives the same weights and tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, ProcessorMixin, Qwen2Tokenizer

TinyModelType = Literal["qwen2_5_vl", "qwen3_vl"]
TINY_MODEL_TYPES: tuple[TinyModelType, ...] = get_args(TinyModelType)

# Qwen special tokens, in the order of the official vocabularies (151643, 151644, ...).
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
    "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
)
# Added tokens that are not special in the official tokenizers.
ADDED_TOKENS = ("<tool_call>", "</tool_call>", "<think>", "</think>")
# Tokens a sampled rollout must never contain: re-fed, they would be read as vision placeholders.
VISION_TOKENS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")


@dataclass(frozen=True)
class _Spec:
    patch_size: int
    rope_theta: float
    tie_word_embeddings: bool
    pixel_mean_std: float | None  # normalisation mean and std per channel; None: CLIP statistics (the default)


_SPECS: dict[str, _Spec] = {
    "qwen2_5_vl": _Spec(patch_size=14, rope_theta=1e6, tie_word_embeddings=False, pixel_mean_std=None),
    "qwen3_vl": _Spec(patch_size=16, rope_theta=5e6, tie_word_embeddings=True, pixel_mean_std=0.5),
}
_MERGE_SIZE = 2
_TEMPORAL_PATCH_SIZE = 2


def _spec(model_type: str) -> _Spec:
    try:
        return _SPECS[model_type]
    except KeyError:
        raise ValueError(f"model_type={model_type!r} is not supported; expected one of {sorted(_SPECS)}") from None


def frame_multiple(model_type: TinyModelType) -> int:
    """Pixels per merged vision token along each side: 28 for Qwen2.5-VL, 32 for Qwen3-VL.

    Frames whose height and width are multiples of this value reach the model unresized.
    """
    return _spec(model_type).patch_size * _MERGE_SIZE


# --------------------------------------------------------------------------- tokenizer

_CORPUS_LINES = (
    "You are a helpful assistant.",
    "system user assistant tool",
    "Watch the video and answer with the letter of the correct option.",
    "Question: What does the person do after picking up the cup?",
    "Options: A. drinks from it B. throws it C. washes it D. drops it",
    "<think>The answer should be between 12.0 and 18.5 seconds, so I need a closer look.</think>",
    "<answer>B</answer> <answer>A</answer> <answer>C</answer> <answer>D</answer>",
    "Zoom into [12.0, 18.5) and look again at a higher resolution.",
    "The fast clip covers the whole video at a low resolution; the slow clip covers a short interval.",
    'A JSON reply: {"start_seconds": 3.0, "end_seconds": 7.5, "answer": "C"}',
    "def reward(completion: str) -> float:\n    return 1.0 if completion.strip() else 0.0\n",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 16 24 32 64 128 256 512 1024 0.5 1.5 2.25 100.0",
    "Punctuation: ( ) [ ] { } < > , . ; : ! ? ' \" - _ = + * / \\ | @ # $ % ^ & ~ `",
    "Other scripts: caf\u00e9, na\u00efve, Z\u00fcrich, se\u00f1or, \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac, "
    "\u0440\u0443\u0441\u0441\u043a\u0438\u0439, \u65e5\u672c\u8a9e, \u4e2d\u6587, \ud55c\uad6d\uc5b4.",
    "Subtitles: 00:01:12,500 --> 00:01:15,000 Where did you put the keys?",
)
# Words for generated sentences, so that BPE training finds enough merges for ~1k tokens.
_WORDS = (
    "the a an this that these those some every each other another same different first last next "
    "man woman child children person people boy girl teacher doctor driver player crowd model_type friend "
    "dog cat bird horse car bus train bicycle boat plane truck street road bridge river lake sea beach "
    "mountain forest park garden field city town village house room kitchen office school shop market "
    "table chair door window wall floor roof box bag bottle cup plate knife phone camera screen book "
    "ball hat coat shirt shoe glass paper letter picture clock light fire water food bread apple "
    "walks runs jumps sits stands opens closes takes gives puts holds throws catches drops picks "
    "looks watches sees turns moves pushes pulls carries lifts cuts cooks eats drinks washes cleans "
    "writes reads draws plays sings dances talks speaks says asks answers points waves smiles laughs "
    "enters leaves arrives starts stops begins ends changes shows appears disappears follows passes "
    "quickly slowly carefully suddenly again always never often later before after during while until "
    "red blue green yellow black white brown gray orange purple small large big little long short tall "
    "old new young happy sad angry tired busy empty full open closed bright dark loud quiet early late "
    "left right up down inside outside behind between under over near far around through across into "
    "morning evening night afternoon today yesterday tomorrow minute hour second moment time scene "
    "video clip frame frames segment interval timestamp zoom resolution camera shot angle view close "
    "question answer option reason because therefore however although which where when what who why how"
).split()


def _corpus(repeats: int = 40):
    state = 12345
    for i in range(repeats):
        yield from _CORPUS_LINES
        words = []
        for _ in range(160):
            state = (state * 1103515245 + 12345) % 2**31  # a fixed LCG: same text on every platform
            words.append(_WORDS[state % len(_WORDS)])
        yield " ".join(words).capitalize() + "."
        start = i * 1.5
        yield (f"At {start:.1f} seconds (frame {i * 30}) the scene changes; "
               f"the clip [{start:.1f}, {start + 4:.1f}) shows {i % 9 + 2} people.")


def _phrases() -> tuple[str, ...]:
    """The LOVE-R1 protocol's fixed sentences (``love_r1.prompts.constants``) that ``build_tokenizer(phrase_tokens=True)``
    makes single tokens: the system message, the decision instruction, the single-letter instruction and
    the two control phrases, byte for byte as the prompts carry them."""
    from love_r1.prompts import constants

    return (constants.SYSTEM_MESSAGE, constants.DECISION_INSTRUCTION, constants.SINGLE_LETTER_INSTRUCTION,
            constants.ZOOM_PHRASE, constants.ANSWER_PHRASE)


def build_tokenizer(*, vocab_size: int = 1024, phrase_tokens: bool = False) -> Qwen2Tokenizer:
    """Train a byte-level BPE with Qwen2's pre-tokenizer and wrap it in ``Qwen2Tokenizer``.

    The result has the real tokenizer class, the Qwen special tokens (each one token), the
    ``<|im_end|>`` end-of-turn token as ``eos_token`` and ``<|endoftext|>`` as ``pad_token``.
    Training is deterministic and takes well under a second.

    ``phrase_tokens``: also add each of the protocol's fixed sentences (the system message, the decision and single-letter
    instructions, the two control phrases) as one
    (non-special) token, so that a prompt's constant text costs a handful of tokens instead of ~300. The text
    of prompts and replies is unchanged (the tokens decode to the same bytes); a model trained from random
    weights for minutes then does not have to learn to look past hundreds of constant tokens between the video
    and its reply (``docs/training.md``, "Learn to zoom on a laptop").
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    if vocab_size < 300:
        raise ValueError(f"vocab_size={vocab_size} is too small; use at least 300 (256 byte symbols plus merges)")
    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator(_corpus(), trainer=trainer)

    vocab = bpe.get_vocab()
    # Special tokens follow the BPE vocabulary in the official order (<|endoftext|>, <|im_start|>, ...).
    vocab.update({token: len(vocab) + i for i, token in enumerate(SPECIAL_TOKENS)})
    tokenizer = Qwen2Tokenizer(
        vocab=vocab, merges=_merges_of(bpe), unk_token=None, bos_token=None,
        eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=131072,
    )
    tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS], special_tokens=True)
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED_TOKENS])
    if phrase_tokens:
        tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in _phrases()])
    return tokenizer


def _merges_of(bpe) -> list[tuple[str, str]]:
    import json

    raw = json.loads(bpe.to_str())["model"]["merges"]
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in raw]


# --------------------------------------------------------------------------- chat templates


def chat_template(name: str) -> str:
    """Return a chat template shipped in the ``trl`` wheel, e.g. ``"qwen2_5_vl"``, ``"qwen3_vl"``.

    The ``*_training`` variants (``"qwen2_5_vl_training"``, ``"qwen3_vl_training"``) add
    ``{% generation %}`` markers for assistant-only loss masks.
    """
    from love_r1._imports import require

    require("trl", extra="train", purpose="the official Qwen chat templates")
    folder = resources.files("trl") / "chat_templates"
    path = folder / f"{name}.jinja"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".jinja") for p in folder.iterdir() if p.name.endswith(".jinja"))
        qwen = [k for k in known if k.startswith("qwen")]
        raise ValueError(f"chat template {name!r} is not in the installed trl; Qwen templates there: {qwen}")
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- processor


def build_processor(model_type: TinyModelType, *, tokenizer: Qwen2Tokenizer | None = None) -> ProcessorMixin:
    """The real Qwen processor for ``model_type``, built from arguments.

    Patch, merge and temporal sizes and the normalisation are the real ones. The pixel
    budgets are small and their lower bounds low, so tiny test clips are not upscaled.
    Like the official Qwen3-VL processor, the Qwen3-VL video processor re-samples frames
    (2 fps) unless a call passes ``do_sample_frames=False``.
    """
    import transformers

    spec = _spec(model_type)
    tokenizer = tokenizer if tokenizer is not None else build_tokenizer()
    m = frame_multiple(model_type)
    common: dict[str, Any] = dict(
        patch_size=spec.patch_size, temporal_patch_size=_TEMPORAL_PATCH_SIZE, merge_size=_MERGE_SIZE
    )
    if spec.pixel_mean_std is not None:
        common.update(image_mean=[spec.pixel_mean_std] * 3, image_std=[spec.pixel_mean_std] * 3)
    image_processor = transformers.Qwen2VLImageProcessor(
        size={"shortest_edge": m * m, "longest_edge": m * m * 1280}, **common
    )
    if model_type == "qwen2_5_vl":
        # Per-frame pixel budget (height * width).
        video_processor = transformers.Qwen2VLVideoProcessor(
            size={"shortest_edge": m * m, "longest_edge": m * m * 768}, cap_pixels_per_frame=False, **common
        )
        processor_cls = transformers.Qwen2_5_VLProcessor
    else:
        # Whole-clip pixel budget (frames * height * width).
        video_processor = transformers.Qwen3VLVideoProcessor(
            size={"shortest_edge": m * m * 4, "longest_edge": m * m * 768}, cap_pixels_per_frame=False, **common
        )
        processor_cls = transformers.Qwen3VLProcessor
    return processor_cls(
        image_processor=image_processor, video_processor=video_processor, tokenizer=tokenizer,
        chat_template=chat_template(model_type),
    )


# --------------------------------------------------------------------------- config and model


def build_config(
    model_type: TinyModelType,
    tokenizer: Qwen2Tokenizer,
    *,
    hidden_size: int = 64,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    num_key_value_heads: int = 2,
    intermediate_size: int = 128,
    vision_hidden_size: int = 32,
    vision_depth: int = 2,
    vision_num_heads: int = 2,
    vision_intermediate_size: int = 64,
) -> PretrainedConfig:
    """A small ``Qwen2_5_VLConfig`` or ``Qwen3VLConfig`` whose token ids match ``tokenizer``."""
    import transformers

    spec = _spec(model_type)
    if hidden_size % num_attention_heads:
        raise ValueError(
            f"hidden_size={hidden_size} must be divisible by num_attention_heads={num_attention_heads}"
        )
    head_dim = hidden_size // num_attention_heads
    if head_dim % 16:
        raise ValueError(f"head_dim={head_dim} (hidden_size / num_attention_heads) must be a multiple of 16 "
                         "so that the M-RoPE sections (t, h, w) split it like the real models")
    if vision_hidden_size % vision_num_heads:
        raise ValueError(
            f"vision_hidden_size={vision_hidden_size} must be divisible by vision_num_heads={vision_num_heads}"
        )
    ids = tokenizer.convert_tokens_to_ids
    # The three sections (t, h, w) sum to head_dim / 2; the real 128-dim heads use [16, 24, 24].
    mrope_section = [head_dim // 8, head_dim * 3 // 16, head_dim * 3 // 16]
    rope = {"rope_type": "default", "rope_theta": spec.rope_theta, "mrope_section": mrope_section}
    text = dict(
        vocab_size=(len(tokenizer) + 63) // 64 * 64,  # padded, like the real vocabularies
        hidden_size=hidden_size, intermediate_size=intermediate_size, num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads, num_key_value_heads=num_key_value_heads,
        max_position_embeddings=32768, bos_token_id=ids("<|endoftext|>"), eos_token_id=ids("<|im_end|>"),
        pad_token_id=ids("<|endoftext|>"),
    )
    vision = dict(
        depth=vision_depth, hidden_size=vision_hidden_size, intermediate_size=vision_intermediate_size,
        num_heads=vision_num_heads, out_hidden_size=hidden_size, patch_size=spec.patch_size,
        spatial_merge_size=_MERGE_SIZE, temporal_patch_size=_TEMPORAL_PATCH_SIZE,
    )
    token_ids = dict(
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
    )
    if model_type == "qwen2_5_vl":
        return transformers.Qwen2_5_VLConfig(
            text_config=dict(text, rope_parameters=rope),
            vision_config=dict(vision, window_size=112, fullatt_block_indexes=[vision_depth - 1], tokens_per_second=2),
            tie_word_embeddings=spec.tie_word_embeddings, **token_ids,
        )
    return transformers.Qwen3VLConfig(
        text_config=dict(text, head_dim=head_dim, rope_parameters=dict(rope, mrope_interleaved=True)),
        # num_position_embeddings must be a perfect square; deepstack indexes must lie inside depth.
        vision_config=dict(vision, num_position_embeddings=64, deepstack_visual_indexes=[0]),
        tie_word_embeddings=spec.tie_word_embeddings, **token_ids,
    )


_MODEL_CLASSES = {
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
}


def build_model(config: PretrainedConfig, *, seed: int = 0) -> PreTrainedModel:
    """Randomly initialise the model class for ``config.model_type``, reproducibly.

    The caller's global RNG state is left untouched. ``generation_config`` stops on
    ``<|im_end|>`` or ``<|endoftext|>`` and pads with ``<|endoftext|>``.
    """
    import torch
    import transformers

    name = _MODEL_CLASSES.get(config.model_type)
    if name is None:
        raise ValueError(
            f"config.model_type={config.model_type!r} is not supported; expected one of {sorted(_MODEL_CLASSES)}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = getattr(transformers, name)(config)
    text = config.text_config
    model.generation_config.eos_token_id = [text.eos_token_id, text.pad_token_id]
    model.generation_config.pad_token_id = text.pad_token_id
    return model.eval()


def build_tiny_model(
    model_type: TinyModelType = "qwen2_5_vl", *, seed: int = 0, phrase_tokens: bool = False, **config_kwargs: int
) -> tuple[PreTrainedModel, ProcessorMixin]:
    """Tokenizer, processor, config and model in one call; returns ``(model, processor)``.

    ``phrase_tokens``: the tokenizer's option (:func:`build_tokenizer`). ``config_kwargs`` are the sizes of
    :func:`build_config` (``hidden_size``, ``num_hidden_layers``, ...).
    """
    processor = build_processor(model_type, tokenizer=build_tokenizer(phrase_tokens=phrase_tokens))
    config = build_config(model_type, processor.tokenizer, **config_kwargs)
    return build_model(config, seed=seed), processor


TinyModelSize = Literal["default", "medium", "larger"]
# "medium" (~1 M parameters) is the learn-to-zoom recipe's: it learns the task in the fewest CPU seconds.
# "larger" (~4 M parameters) gives timings closer to real models' proportions in benchmarks.
_SIZES: dict[str, dict[str, int]] = {
    "default": {},
    "medium": dict(hidden_size=128, num_hidden_layers=4, intermediate_size=384, vision_hidden_size=96,
                   vision_depth=2, vision_num_heads=2, vision_intermediate_size=192),
    "larger": dict(hidden_size=256, num_hidden_layers=4, intermediate_size=512, vision_hidden_size=128,
                   vision_depth=4, vision_num_heads=4, vision_intermediate_size=256),
}


def write_tiny_model(
    out: str | Path, *, model_type: TinyModelType = "qwen2_5_vl", seed: int = 0, size: TinyModelSize = "default",
    phrase_tokens: bool = False,
) -> Path:
    """Write a tiny random checkpoint folder (model, processor, chat template) to ``out``; returns ``out``.

    ``phrase_tokens``: the protocol's fixed sentences are single tokens (:func:`build_tokenizer`). The folder loads with ``AutoModelForImageTextToText`` / ``AutoProcessor`` and with
    ``love-r1 ask|eval|train --model out``.
    """
    if size not in _SIZES:
        raise ValueError(f"size={size!r} is not one of {sorted(_SIZES)}")
    model, processor = build_tiny_model(model_type, seed=seed, phrase_tokens=phrase_tokens, **_SIZES[size])
    out = Path(out)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


__all__ = [
    "ADDED_TOKENS", "SPECIAL_TOKENS", "TINY_MODEL_TYPES", "VISION_TOKENS", "TinyModelSize", "TinyModelType",
    "build_config", "build_model", "build_processor", "build_tiny_model", "build_tokenizer", "chat_template",
    "frame_multiple", "write_tiny_model",
]
