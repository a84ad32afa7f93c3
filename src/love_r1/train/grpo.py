"""Decoupled GRPO (stage 3) on ``accelerate``: each rollout step is its own sample (``docs/protocol.md`` §4.3).

Why not ``trl.GRPOTrainer``: in TRL 1.16 its loss forward receives only ``input_ids`` and
``attention_mask`` for video prompts (``tests/train/test_trl_guard.py`` pins this). Here every forward
-- sampling, old log-probs, loss -- gets the same ``pixel_values_videos``, ``video_grid_thw``,
``second_per_grid_ts`` and ``mm_token_type_ids`` (reference defect #1), each step's samples carry their
own group-normalised advantage (defect #2), and the loss covers completion tokens only.

One update, per process: for each of ``gradient_accumulation_steps`` prompts, sample
``num_generations`` step-1 replies in one ``generate(num_return_sequences=G)``; build each rollout's
step-2 prompt (QA: the step-1 clips plus a valid zoom, or the same prompt again; grounding: the
record's ``zoomin_intervals`` with the zoom phrase pre-filled) and sample them batched; score, mask
second QA zooms, normalise per (prompt, step) group, then run the clipped surrogate loss.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from love_r1.interval import Interval
from love_r1.prompts import constants
from love_r1.train import rewards as R
from love_r1.train.collate import add_position_ids
from love_r1.train.inputs import RecordDecoder
from love_r1.train.records import TrainRecord

logger = logging.getLogger(__name__)

RewardFunc = Callable[..., list]


@dataclass
class StepSample:
    """One decoupled single-step sample: its own prompt inputs, completion, reward and advantage."""

    group: int
    rollout: int
    step: int
    kind: str
    prompt_inputs: dict[str, Any]
    completion_ids: Any
    text: str
    assistant_prefix: str
    clips: tuple[Interval, ...]
    duration_seconds: float
    old_logps: Any = None
    reward: float = 0.0
    accuracy: float | None = None
    format: float = 0.0
    masked: bool = False
    advantage: float = 0.0
    columns: dict[str, Any] = field(default_factory=dict)


def collate_samples(processor: Any, prompts: Sequence[dict[str, Any]], completions: Sequence[Any] | None = None,
                    *, padding_side: str = "right", config: Any,
                    position_rule: str = "max_plus_one") -> tuple[dict[str, Any], list[int]]:
    """Pad per-sample prompt inputs (+ completions) into one batch; returns it and each prompt's length.

    Videos are concatenated in sample order, so each sample keeps exactly its own grids and
    ``second_per_grid_ts``; ``mm_token_type_ids`` is rebuilt from the ids (text 0, video 2).
    """
    import torch

    from love_r1.backends.qwen_inputs import mm_token_type_ids

    pad = processor.tokenizer.pad_token_id
    rows, prompt_lengths = [], []
    for i, p in enumerate(prompts):
        ids = p["input_ids"][0][p["attention_mask"][0].bool()]
        prompt_lengths.append(int(ids.shape[0]))
        if completions is not None:
            ids = torch.cat([ids, completions[i].to(ids.device)])
        rows.append(ids)
    width = max(int(r.shape[0]) for r in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=rows[0].dtype, device=rows[0].device)
    attention = torch.zeros_like(input_ids)
    for i, r in enumerate(rows):
        n = int(r.shape[0])
        if padding_side == "left":
            input_ids[i, width - n:], attention[i, width - n:] = r, 1
        else:
            input_ids[i, :n], attention[i, :n] = r, 1
    batch: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention,
                             "mm_token_type_ids": mm_token_type_ids(input_ids, config)}
    for key in ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts"):
        parts = [p[key] for p in prompts if key in p and p[key] is not None]
        if parts:
            batch[key] = torch.cat(parts)
    return add_position_ids(batch, model_config=config, position_rule=position_rule), prompt_lengths


def completion_logps(model: Any, batch: dict[str, Any], *, prompt_lengths: Sequence[int],
                     completion_lengths: Sequence[int]) -> tuple[Any, Any]:
    """Per-token log-probs of each right-padded sample's completion ``[B, C]`` and the mask ``[B, C]``.

    Only the logits of completion positions are computed (``logits_to_keep``), never the full prompt's.
    """
    import torch

    width = batch["input_ids"].shape[1]
    keep = width - min(prompt_lengths) + 1
    logits = model(**batch, logits_to_keep=keep).logits.float()  # [B, keep, V] for positions width-keep..width-1
    offset = width - keep
    longest = max(completion_lengths)
    logps = torch.zeros(len(prompt_lengths), longest, device=logits.device)
    mask = torch.zeros_like(logps)
    for i, (p, c) in enumerate(zip(prompt_lengths, completion_lengths, strict=True)):
        if c == 0:
            continue
        rows = logits[i, p - 1 - offset:p - 1 - offset + c]
        targets = batch["input_ids"][i, p:p + c]
        logps[i, :c] = torch.log_softmax(rows, -1).gather(-1, targets[:, None]).squeeze(-1)
        mask[i, :c] = 1
    return logps, mask


def clipped_loss(logps: Any, old_logps: Any, advantages: Any, mask: Any, *, epsilon: float,
                 epsilon_high: float | None = None, num_tokens: float | None = None) -> Any:
    """``-min(ρA, clip(ρ, 1-ε, 1+ε_high)·A)`` summed over completion tokens / ``num_tokens`` (all samples)."""
    import torch

    ratio = torch.exp(logps - old_logps)
    high = epsilon if epsilon_high is None else epsilon_high
    per_token = -torch.min(ratio * advantages[:, None], ratio.clamp(1 - epsilon, 1 + high) * advantages[:, None])
    denominator = num_tokens if num_tokens is not None else mask.sum().clamp(min=1)
    return (per_token * mask).sum() / denominator


class DecoupledGRPOTrainer:
    """A compact GRPO trainer for LOVE-R1's decoupled steps; owns the model, optimizer and accelerator."""

    def __init__(self, *, model: Any, processor: Any, args: Any, train_records: Sequence[TrainRecord],
                 decoder: RecordDecoder | None = None, reward_funcs: Sequence[RewardFunc] | None = None,
                 reward_weights: Sequence[float] | None = None, position_rule: str = "max_plus_one") -> None:
        import torch
        from accelerate import Accelerator
        from transformers import get_scheduler

        from love_r1.backends.qwen_inputs import resolve_model_type, vision_token_ids

        self.args = args
        self.position_rule = position_rule
        self.processor = processor
        self.records = [r for r in train_records if r.kind == "grpo"]
        if not self.records:
            raise ValueError("no GRPO records (problem/solution) to train on; check the train file")
        self.decoder = decoder or RecordDecoder(video_root=args.video_root, policy=args.clip_policy(),
                                                mode=args.decode_mode)
        self.model_type = resolve_model_type(processor, getattr(model.config, "model_type", None))
        if reward_funcs is None:
            rules = dict(compat=args.reward_compat, min_zoom_seconds=args.min_zoom_seconds,
                         max_zoom_seconds=args.max_zoom_seconds, max_zoom_fraction=args.max_zoom_fraction,
                         repeat_iou=args.zoom_repeat_iou)
            reward_funcs = [
                lambda completions, **kw: R.answer_reward(completions, compat=args.reward_compat, **kw),
                lambda completions, **kw: R.format_reward(completions, **rules, **kw),
                lambda completions, **kw: R.zoom_reward(completions, mode=args.zoom_reward_mode, **kw),
            ]
            reward_weights = [args.accuracy_weight, args.format_weight, args.zoom_weight]
        self.reward_funcs = list(reward_funcs)
        self.reward_weights = list(reward_weights or [1.0] * len(self.reward_funcs))
        self.accelerator = Accelerator(cpu=bool(getattr(args, "use_cpu", False)),
                                       mixed_precision="bf16" if args.bf16 else "no")
        plugin = getattr(self.accelerator.state, "deepspeed_plugin", None)
        if plugin is not None:  # no dataloader is prepared, so DeepSpeed cannot infer the micro-batch
            plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = int(args.per_device_train_batch_size)
            plugin.deepspeed_config["gradient_accumulation_steps"] = 1
        self._synced_gpus = plugin is not None and plugin.zero_stage == 3
        if getattr(args, "activation_checkpointing", None) or getattr(args, "gradient_checkpointing", False):
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.config.use_cache = False
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay,
                                      betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)
        self.total_steps = self._total_steps()
        warmup = args.warmup_steps or 0  # transformers 5: a fraction below 1, else a step count
        scheduler = get_scheduler(args.lr_scheduler_type, optimizer,
                                  num_warmup_steps=int(warmup * self.total_steps) if warmup < 1 else int(warmup),
                                  num_training_steps=self.total_steps)
        self.model, self.optimizer, self.scheduler = self.accelerator.prepare(model, optimizer, scheduler)
        self.suppress_ids = vision_token_ids(processor.tokenizer)
        tok = processor.tokenizer
        self.stop_ids = {i for i in (tok.convert_tokens_to_ids("<|im_end|>"), tok.pad_token_id) if i is not None}
        self.history: list[dict[str, float]] = []
        self._stored: list[StepSample] = []
        self._rng = random.Random(args.seed)
        self._order: list[int] = []
        self.global_step = 0

    # ------------------------------------------------------------------ data

    def _prompts_per_update(self) -> int:
        return int(self.args.gradient_accumulation_steps)

    def _total_steps(self) -> int:
        if self.args.max_steps and self.args.max_steps > 0:
            return int(self.args.max_steps)
        per_update = self._prompts_per_update() * max(1, self.accelerator.num_processes)
        return max(1, math.ceil(len(self.records) * self.args.num_train_epochs / per_update))

    def _next_records(self) -> list[TrainRecord]:
        out = []
        while len(out) < self._prompts_per_update():
            if not self._order:
                order = list(range(len(self.records)))
                self._rng.shuffle(order)
                rank, world = self.accelerator.process_index, self.accelerator.num_processes
                self._order = order[rank::world] or order
            out.append(self.records[self._order.pop(0)])
        return out

    # ------------------------------------------------------------------ rollouts

    def _prompt_inputs(self, record: TrainRecord, clips: Sequence[Interval], prefix: str) -> tuple[dict, float]:
        from love_r1.backends.qwen_inputs import build_generation_inputs

        messages, _, duration = self.decoder.prompt(record, clips=clips, stage="grpo")
        inputs = build_generation_inputs(self.processor, [messages], model_type=self.model_type,
                                         assistant_prefixes=[prefix])
        add_position_ids(inputs, model_config=self.accelerator.unwrap_model(self.model).config,
                         position_rule=self.position_rule)
        return {k: v.to(self.accelerator.device) for k, v in inputs.items()}, duration

    def _generate(self, batch: dict[str, Any], num_return_sequences: int) -> list[Any]:
        import torch

        model = self.accelerator.unwrap_model(self.model)
        model.model.rope_deltas = None
        args = self.args
        with torch.no_grad():
            out = model.generate(
                **batch, do_sample=True, temperature=args.temperature, top_p=args.top_p,
                top_k=args.top_k or None, max_new_tokens=args.max_completion_length,
                num_return_sequences=num_return_sequences, suppress_tokens=self.suppress_ids,
                pad_token_id=self.processor.tokenizer.pad_token_id, use_cache=True,
                **({"synced_gpus": True} if self._synced_gpus else {}),
            )
        model.model.rope_deltas = None
        completions = []
        for row in out[:, batch["input_ids"].shape[1]:]:
            ids = row.tolist()
            end = next((i + 1 for i, t in enumerate(ids) if t in self.stop_ids), len(ids))
            completions.append(row[:end].clone())
        return completions

    def _sample(self, group: int, rollout: int, step: int, record: TrainRecord, inputs: dict, completion: Any,
                prefix: str, clips: Sequence[Interval], duration: float) -> StepSample:
        text = self.processor.tokenizer.decode(completion, skip_special_tokens=True)
        return StepSample(group=group, rollout=rollout, step=step, kind="grounding" if record.tgt else "qa",
                          prompt_inputs=inputs, completion_ids=completion, text=text, assistant_prefix=prefix,
                          clips=tuple(clips), duration_seconds=duration,
                          columns={"gold": record.gold, "tgt": [t.as_list() for t in record.tgt],
                                   "options": list(record.options)})

    def rollout(self, records: Sequence[TrainRecord]) -> list[StepSample]:
        """Two decoupled steps of ``num_generations`` rollouts per record; samples with old log-probs."""
        G = int(self.args.num_generations)
        samples: list[StepSample] = []
        for group, record in enumerate(records):
            grounding = bool(record.tgt)
            clips1: tuple[Interval, ...] = () if grounding else tuple(record.zoomin_intervals)
            prefix1 = constants.ZOOM_PREFIX if grounding else ""
            inputs1, duration = self._prompt_inputs(record, clips1, prefix1)
            step1 = [self._sample(group, g, 1, record, inputs1, c, prefix1, clips1, duration)
                     for g, c in enumerate(self._generate(inputs1, G))]
            step2_prompts: dict[tuple, tuple[dict, tuple[Interval, ...], str]] = {}
            plans = []
            for s in step1:
                if grounding:
                    clips2, prefix2 = tuple(record.zoomin_intervals), constants.ZOOM_PREFIX
                else:
                    zoom = R.zoom_interval(s.assistant_prefix + s.text, compat=self.args.reward_compat)
                    valid = zoom is not None and R.zoom_is_valid(
                        zoom, duration_seconds=duration, clips=clips1, min_zoom_seconds=self.args.min_zoom_seconds,
                        max_zoom_seconds=self.args.max_zoom_seconds, max_zoom_fraction=self.args.max_zoom_fraction,
                        repeat_iou=self.args.zoom_repeat_iou)
                    clips2 = clips1 + ((zoom,) if valid else ())
                    clips2 = tuple(Interval(min(c.start_seconds, duration), min(c.end_seconds, duration))
                                   for c in clips2)
                    prefix2 = ""
                key = (clips2, prefix2)
                if key not in step2_prompts:
                    step2_prompts[key] = (self._prompt_inputs(record, clips2, prefix2)[0], clips2, prefix2)
                plans.append(key)
            batch, _ = collate_samples(self.processor, [step2_prompts[k][0] for k in plans], padding_side="left",
                                       config=self.accelerator.unwrap_model(self.model).config,
                                       position_rule=self.position_rule)
            step2 = []
            for g, (key, completion) in enumerate(zip(plans, self._generate(batch, 1), strict=True)):
                inputs2, clips2, prefix2 = step2_prompts[key]
                step2.append(self._sample(group, g, 2, record, inputs2, completion, prefix2, clips2, duration))
            samples.extend(step1 + step2)
        self._score(samples)
        self._old_logps(samples)
        return samples

    def _score(self, samples: list[StepSample]) -> None:
        completions = [s.text for s in samples]
        columns = {
            "assistant_prefix": [s.assistant_prefix for s in samples], "kind": [s.kind for s in samples],
            "duration_seconds": [s.duration_seconds for s in samples],
            "clips": [[c.as_list() for c in s.clips] for s in samples],
            "gold": [s.columns["gold"] for s in samples], "tgt": [s.columns["tgt"] for s in samples],
            "options": [s.columns["options"] for s in samples],
            "completion_ids": [s.completion_ids.tolist() for s in samples], "step": [s.step for s in samples],
        }
        outputs = [f(completions, **columns) for f in self.reward_funcs]
        accuracy = outputs[0]
        fmt = outputs[1] if len(outputs) > 1 else [1.0] * len(samples)
        by_key = {(s.group, s.rollout, s.step): i for i, s in enumerate(samples)}
        for i, s in enumerate(samples):
            s.accuracy, s.format = accuracy[i], float(fmt[i] or 0.0)
        for s in samples:  # a second QA zoom masks the whole rollout
            if s.step == 2 and s.kind == "qa" and R.zoom_interval(s.assistant_prefix + s.text) is not None:
                samples[by_key[(s.group, s.rollout, 1)]].masked = s.masked = True
        for s in samples:  # a QA zoom inherits its follow-up answer's accuracy
            if s.step == 1 and s.accuracy is None:
                s.accuracy = samples[by_key[(s.group, s.rollout, 2)]].accuracy
        for i, s in enumerate(samples):
            acc = 0.0 if (s.masked or s.format == 0.0) else float(s.accuracy or 0.0)
            row = [acc if j == 0 else out[i] for j, out in enumerate(outputs)]
            s.reward = 0.0 if s.masked else R.combine_rewards([[v] for v in row], self.reward_weights)[0]
        for step in (1, 2):
            chosen = [s for s in samples if s.step == step]
            advantages = R.group_advantages([s.reward for s in chosen], groups=[s.group for s in chosen],
                                            masked=[s.masked for s in chosen], epsilon=self.args.advantage_epsilon)
            for s, a in zip(chosen, advantages, strict=True):
                s.advantage = a

    def _batches(self, samples: Sequence[StepSample]) -> list[list[StepSample]]:
        size = max(1, int(self.args.per_device_train_batch_size))
        return [list(samples[i:i + size]) for i in range(0, len(samples), size)]

    def _forward(self, samples: Sequence[StepSample]) -> tuple[Any, Any]:
        batch, prompt_lengths = collate_samples(self.processor, [s.prompt_inputs for s in samples],
                                                [s.completion_ids for s in samples], padding_side="right",
                                                config=self.accelerator.unwrap_model(self.model).config,
                                                position_rule=self.position_rule)
        return completion_logps(self.model, batch, prompt_lengths=prompt_lengths,
                                completion_lengths=[int(s.completion_ids.shape[0]) for s in samples])

    def _old_logps(self, samples: Sequence[StepSample]) -> None:
        import torch

        with torch.no_grad():
            for chunk in self._batches(samples):
                logps, _ = self._forward(chunk)
                for s, row in zip(chunk, logps, strict=True):
                    s.old_logps = row[: int(s.completion_ids.shape[0])].detach()

    # ------------------------------------------------------------------ update

    def update(self, samples: Sequence[StepSample]) -> float:
        """One optimizer step on ``samples`` (unmasked ones); returns the loss."""
        import torch

        active = [s for s in samples if not s.masked and int(s.completion_ids.shape[0]) > 0]
        self.model.train()
        total = 0.0
        num_tokens = float(sum(int(s.completion_ids.shape[0]) for s in active)) or 1.0
        for chunk in self._batches(active):
            logps, mask = self._forward(chunk)
            old = torch.zeros_like(logps)
            for i, s in enumerate(chunk):
                old[i, : s.old_logps.shape[0]] = s.old_logps
            advantages = torch.tensor([s.advantage for s in chunk], device=logps.device)
            loss = clipped_loss(logps, old, advantages, mask, epsilon=self.args.epsilon,
                                epsilon_high=self.args.epsilon_high, num_tokens=num_tokens)
            self.accelerator.backward(loss)
            total += float(loss.detach())
        if self.args.max_grad_norm and self.args.max_grad_norm > 0:
            self.accelerator.clip_grad_norm_(self.model.parameters(), self.args.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        return total

    def step(self) -> dict[str, float]:
        """Rollouts (unless an odd alternating update) plus one update; returns the logged metrics."""
        start = time.perf_counter()
        self.model.eval()
        if self.args.alternate_steps and self.global_step % 2 == 1 and self._stored:
            train, samples, rollout_seconds = self._stored, self._stored, 0.0
            self._stored = []
        else:
            samples = self.rollout(self._next_records())
            rollout_seconds = time.perf_counter() - start
            if self.args.alternate_steps:
                train = [s for s in samples if s.step == 1]
                self._stored = [s for s in samples if s.step == 2]
            else:
                train = samples
        update_start = time.perf_counter()
        loss = self.update(train)
        metrics = {"step": float(self.global_step), "loss": loss, "rollout_seconds": rollout_seconds,
                   "update_seconds": time.perf_counter() - update_start,
                   "num_samples": float(len(train)), "num_masked": float(sum(s.masked for s in samples))}
        for step in (1, 2):
            chosen = [s.reward for s in samples if s.step == step and not s.masked]
            metrics[f"reward_step{step}"] = sum(chosen) / len(chosen) if chosen else float("nan")
        self.global_step += 1
        self.history.append(metrics)
        return metrics

    def train(self) -> list[dict[str, float]]:
        from tqdm.auto import tqdm

        bar = tqdm(range(self.total_steps), desc="grpo",
                   disable=bool(self.args.disable_tqdm) or not self.accelerator.is_main_process)
        for _ in bar:
            metrics = self.step()
            bar.set_postfix(loss=f"{metrics['loss']:.4f}", r1=f"{metrics['reward_step1']:.3f}")
            if self.args.save_steps and self.args.save_strategy == "steps" and \
                    self.global_step % int(self.args.save_steps) == 0:
                self.save_model(f"{self.args.output_dir}/checkpoint-{self.global_step}")
        return self.history

    def save_model(self, output_dir: str | None = None) -> str:
        """Save weights + processor (loadable by ``HFBackend.from_pretrained``)."""
        output_dir = output_dir or self.args.output_dir
        self.accelerator.wait_for_everyone()
        model = self.accelerator.unwrap_model(self.model)
        state = self.accelerator.get_state_dict(self.model)
        if self.accelerator.is_main_process:
            model.save_pretrained(output_dir, state_dict=state)
            self.processor.save_pretrained(output_dir)
        return output_dir


__all__ = ["DecoupledGRPOTrainer", "StepSample", "clipped_loss", "collate_samples", "completion_logps"]
