"""Decoupled GRPO (stage 3) on ``accelerate``: each rollout step is its own sample (``docs/protocol.md`` §4.3).

Why not ``trl.GRPOTrainer``: in TRL 1.16 its loss forward receives only ``input_ids`` and
``attention_mask`` for video prompts (``tests/train/test_trl_guard.py`` pins this), and its batch
model (one completion per prompt row) has no place for two decoupled steps with their own prompts,
masks and group statistics. Here every forward -- sampling, old log-probs, loss -- gets the same
``pixel_values_videos``, ``video_grid_thw``, ``second_per_grid_ts`` and ``mm_token_type_ids`` (reference
defect #1), each step's samples carry their own group-normalised advantage (defect #2), and the loss
covers completion tokens only.

One update = one optimizer step, on every engine (DDP, FSDP, DeepSpeed ZeRO-3):

1. ``prompts_per_update`` prompts, split evenly over the processes (the same global order whatever
   the process count); each prompt's rollouts are sampled with a seed of its own, so a prompt gets
   the same rollouts on 1 or 8 processes.
2. per prompt: ``num_generations`` step-1 replies in one ``generate(num_return_sequences=G)``; each
   rollout's step-2 prompt (:func:`love_r1.train._rollout.step2_clips`), sampled batched.
3. scores, masks (a second QA zoom), advantages per (prompt, step) group.
4. the loss in exactly ``UpdatePlan.micro_batches`` forward/backward passes on every process: masked
   samples stay in their micro-batch with weight 0, so every process runs the same sequence of
   collectives whatever its masks. The loss is normalised by the completion tokens of the whole
   update over all processes; the engines' accumulation and all-reduce averaging are undone by
   :func:`~love_r1.train._rollout.loss_scale`. DeepSpeed's ``gradient_accumulation_steps`` is set to
   the micro-batch count, so it too steps once per update.
5. the learning-rate scheduler (never handed to ``accelerator.prepare``, whose wrapper steps once per
   process) advances once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.interval import Interval
from love_r1.prompts import constants
from love_r1.train import rewards as R
from love_r1.train._rollout import (
    UpdatePlan,
    ZoomRules,
    is_zoom,
    loss_scale,
    num_updates,
    rollout_record_indices,
    rollout_seed,
    start_clips,
    step2_clips,
)
from love_r1.train._setup import prepare_manifest, prepare_model
from love_r1.train.collate import add_position_ids
from love_r1.train.configs import ConfigError
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
    record_index: int = -1
    columns: dict[str, Any] = field(default_factory=dict)
    components: list[float | None] = field(default_factory=list)  # each reward function's value (accuracy zeroed)


def collate_samples(processor: Any, prompts: Sequence[dict[str, Any]], completions: Sequence[Any] | None = None,
                    *, padding_side: str = "right", config: Any,
                    position_rule: str = "max_plus_one") -> tuple[dict[str, Any], list[int]]:
    """Pad per-sample prompt inputs (+ completions) into one batch; returns it and each prompt's length.

    Videos are concatenated in sample order, so each sample keeps exactly its own grids and
    ``second_per_grid_ts``; ``mm_token_type_ids`` is rebuilt from the ids (text 0, video 2) and
    ``position_ids`` computed under ``position_rule`` (completion tokens continue their prompt's text).
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


def _rank_and_count(accelerator: Any) -> tuple[int, int]:
    """This process's rank and the process count of the run (the torch.distributed group when there is one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return accelerator.process_index, accelerator.num_processes


class DecoupledGRPOTrainer:
    """A compact GRPO trainer for LOVE-R1's decoupled steps; owns the model, optimizer and accelerator."""

    def __init__(self, *, model: Any, processor: Any, args: Any, train_records: Sequence[TrainRecord],
                 decoder: RecordDecoder | None = None, reward_funcs: Sequence[RewardFunc] | None = None,
                 reward_weights: Sequence[float] | None = None) -> None:
        import torch
        from accelerate import Accelerator
        from transformers import get_scheduler

        from love_r1.backends.qwen_inputs import resolve_model_type, vision_token_ids

        self.args = args
        self.position_rule = args.position_rule
        self.processor = processor
        self.records = [r for r in train_records if r.kind == "grpo"]
        if not self.records:
            raise ValueError("no GRPO records (problem/solution) to train on; check the train file")
        self.decoder = decoder or RecordDecoder(video_root=args.video_root, policy=args.clip_policy(),
                                                mode=args.decode_mode)
        self.model_type = resolve_model_type(processor, getattr(model.config, "model_type", None))
        self.rules = ZoomRules.from_config(args)
        if reward_funcs is None:
            rules = dict(compat=args.reward_compat, **dataclasses.asdict(self.rules))
            reward_funcs = [
                lambda completions, **kw: R.answer_reward(completions, compat=args.reward_compat, **kw),
                lambda completions, **kw: R.format_reward(completions, **rules, **kw),
                lambda completions, **kw: R.zoom_reward(completions, mode=args.zoom_reward_mode, **kw),
            ]
            reward_weights = [args.accuracy_weight, args.format_weight, args.zoom_weight]
            self.reward_names = ["accuracy", "format", "zoom"]
        else:
            self.reward_names = [f"reward{i}" for i in range(len(reward_funcs))]
        self.reward_funcs = list(reward_funcs)
        self.reward_weights = list(reward_weights or [1.0] * len(self.reward_funcs))

        self.accelerator = Accelerator(cpu=bool(args.use_cpu), mixed_precision="bf16" if args.bf16 else "no")
        self.rank, self.num_processes = _rank_and_count(self.accelerator)
        try:
            self.plan = UpdatePlan.build(prompts_per_update=args.prompts_per_update, num_processes=self.num_processes,
                                         num_generations=args.num_generations, micro_batch_size=args.micro_batch_size,
                                         alternate_steps=args.alternate_steps)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        self.accelerator.gradient_accumulation_steps = self.plan.micro_batches
        self._sharded = self._configure_engine()
        if args.activation_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.config.use_cache = False
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay,
                                      betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)
        self.optimizer_steps = 0  # real optimizer steps on this process, counted on the optimizer itself
        optimizer.register_step_post_hook(self._count_optimizer_step)
        self.total_steps = num_updates(num_records=len(self.records), num_train_epochs=args.num_train_epochs,
                                       prompts_per_update=args.prompts_per_update, max_steps=args.max_steps,
                                       alternate_steps=args.alternate_steps)
        # stepped once per update by us; accelerate's prepared scheduler would step once per process
        self.scheduler = get_scheduler(args.lr_scheduler_type, optimizer,
                                       num_warmup_steps=round(args.warmup_ratio * self.total_steps),
                                       num_training_steps=self.total_steps)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.suppress_ids = vision_token_ids(processor.tokenizer)
        tok = processor.tokenizer
        self.stop_ids = {i for i in (tok.convert_tokens_to_ids("<|im_end|>"), tok.pad_token_id) if i is not None}
        self.history: list[dict[str, float]] = []
        self._stored: list[StepSample] = []
        self._rounds = 0
        self.global_step = 0
        self.grad_norm = float("nan")

    @property
    def is_main_process(self) -> bool:
        """Rank 0 of the run (writes metrics and checkpoints)."""
        return self.rank == 0

    def _count_optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        self.optimizer_steps += 1

    def _configure_engine(self) -> bool:
        """DeepSpeed: one optimizer step per update (accumulation = micro-batches), our clipping. Returns sharded?"""
        from accelerate.utils import DistributedType

        plugin = getattr(self.accelerator.state, "deepspeed_plugin", None)
        if plugin is not None:  # no dataloader is prepared, so DeepSpeed's batch keys come from the plan
            ds = plugin.deepspeed_config
            ds["train_micro_batch_size_per_gpu"] = self.plan.micro_batch_size
            ds["gradient_accumulation_steps"] = self.plan.micro_batches
            ds["train_batch_size"] = self.plan.micro_batch_size * self.plan.micro_batches * self.num_processes
            ds["gradient_clipping"] = float(self.args.max_grad_norm)
            return plugin.zero_stage == 3 and self.num_processes > 1
        return self.accelerator.distributed_type == DistributedType.FSDP and self.num_processes > 1

    # ------------------------------------------------------------------ data

    def _next_records(self) -> list[tuple[int, int, TrainRecord]]:
        """This process's ``(global position, record index, record)`` of the next rollout round."""
        indices = rollout_record_indices(num_records=len(self.records), prompts_per_update=self.args.prompts_per_update,
                                         rollout_index=self._rounds, seed=self.args.seed)
        first = self.rank * self.plan.prompts_per_process
        return [(first + k, indices[first + k], self.records[indices[first + k]])
                for k in range(self.plan.prompts_per_process)]

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
                **({"synced_gpus": True} if self._sharded else {}),
            )
        model.model.rope_deltas = None
        completions = []
        for row in out[:, batch["input_ids"].shape[1]:]:
            ids = row.tolist()
            end = next((i + 1 for i, t in enumerate(ids) if t in self.stop_ids), len(ids))
            completions.append(row[:end].clone())
        return completions

    def _sample(self, group: int, rollout: int, step: int, record: TrainRecord, record_index: int, inputs: dict,
                completion: Any, prefix: str, clips: Sequence[Interval], duration: float) -> StepSample:
        text = self.processor.tokenizer.decode(completion, skip_special_tokens=True)
        moments = record.evidence  # grounding moments, else where a QA answer is shown
        return StepSample(group=group, rollout=rollout, step=step, kind="grounding" if record.grounding else "qa",
                          prompt_inputs=inputs, completion_ids=completion, text=text, assistant_prefix=prefix,
                          clips=tuple(clips), duration_seconds=duration, record_index=record_index,
                          columns={"gold": record.gold, "evidence": [t.as_list() for t in moments],
                                   "options": list(record.options)})

    def rollout(self, prompts: Sequence[tuple[int, int, TrainRecord]]) -> list[StepSample]:
        """Two decoupled steps of ``num_generations`` rollouts per prompt; samples with old log-probs.

        ``prompts``: ``(global position, record index, record)``; the position seeds the sampling.
        """
        import torch

        G = int(self.args.num_generations)
        compat = bool(self.args.reward_compat)
        samples: list[StepSample] = []
        for group, (position, index, record) in enumerate(prompts):
            torch.manual_seed(rollout_seed(seed=self.args.seed, rollout_index=self._rounds, prompt_position=position))
            grounding = record.grounding
            clips1 = () if grounding else start_clips(record.clips, compat=compat)
            prefix1 = constants.ZOOM_PREFIX if grounding else ""
            inputs1, duration = self._prompt_inputs(record, clips1, prefix1)
            step1 = [self._sample(group, g, 1, record, index, inputs1, c, prefix1, clips1, duration)
                     for g, c in enumerate(self._generate(inputs1, G))]
            step2_prompts: dict[tuple, dict] = {}
            plans = []
            for s in step1:
                if grounding:
                    key = (start_clips(record.clips, compat=compat), constants.ZOOM_PREFIX)
                else:
                    key = (step2_clips(reply=s.assistant_prefix + s.text, clips=clips1, duration_seconds=duration,
                                       rules=self.rules, compat=compat), "")
                if key not in step2_prompts:
                    step2_prompts[key] = self._prompt_inputs(record, key[0], key[1])[0]
                plans.append(key)
            batch, _ = collate_samples(self.processor, [step2_prompts[k] for k in plans], padding_side="left",
                                       config=self.accelerator.unwrap_model(self.model).config,
                                       position_rule=self.position_rule)
            step2 = [self._sample(group, g, 2, record, index, step2_prompts[key], completion, key[1], key[0], duration)
                     for g, (key, completion) in enumerate(zip(plans, self._generate(batch, 1), strict=True))]
            samples.extend(step1 + step2)
        self._rounds += 1
        self._score(samples)
        self._old_logps(samples)
        return samples

    def _score(self, samples: list[StepSample]) -> None:
        completions = [s.text for s in samples]
        columns = {
            "assistant_prefix": [s.assistant_prefix for s in samples], "kind": [s.kind for s in samples],
            "duration_seconds": [s.duration_seconds for s in samples],
            "clips": [[c.as_list() for c in s.clips] for s in samples],
            "gold": [s.columns["gold"] for s in samples], "evidence": [s.columns["evidence"] for s in samples],
            "options": [s.columns["options"] for s in samples],
            "completion_ids": [s.completion_ids.tolist() for s in samples], "step": [s.step for s in samples],
        }
        outputs = [f(completions, **columns) for f in self.reward_funcs]
        accuracy = outputs[0]
        fmt = outputs[1] if len(outputs) > 1 else [1.0] * len(samples)
        by_key = {(s.group, s.rollout, s.step): i for i, s in enumerate(samples)}
        for i, s in enumerate(samples):
            s.accuracy, s.format = accuracy[i], float(fmt[i] or 0.0)
        compat = bool(self.args.reward_compat)
        for s in samples:  # a second QA zoom masks the whole rollout
            if s.step == 2 and s.kind == "qa" and is_zoom(s.assistant_prefix + s.text, compat=compat):
                samples[by_key[(s.group, s.rollout, 1)]].masked = s.masked = True
        for s in samples:  # a QA zoom inherits its follow-up answer's accuracy
            if s.step == 1 and s.accuracy is None:
                s.accuracy = samples[by_key[(s.group, s.rollout, 2)]].accuracy
        for i, s in enumerate(samples):
            # a format failure or a mask zeroes every outcome reward (accuracy, zoom, any further function): only
            # the format reward speaks for a reply outside the grammar (a readable box in a malformed reply
            # earned the zoom reward, and GRPO learned to drop the control phrase)
            failed = s.masked or s.format == 0.0
            row = [0.0 if failed else float(s.accuracy or 0.0), *(out[i] for out in outputs[1:])]
            if failed:
                row = [value if j == 1 or value is None else 0.0 for j, value in enumerate(row)]
            s.components = row
            s.reward = 0.0 if s.masked else R.combine_rewards([[v] for v in row], self.reward_weights)[0]
        self._advantages(samples)

    def _advantages(self, samples: list[StepSample]) -> None:
        """``(r - mean) / (std + advantage_epsilon)`` per (prompt, step) group over unmasked samples."""
        for step in (1, 2):
            chosen = [s for s in samples if s.step == step]
            advantages = R.group_advantages([s.reward for s in chosen], groups=[s.group for s in chosen],
                                            masked=[s.masked for s in chosen], epsilon=self.args.advantage_epsilon)
            for s, a in zip(chosen, advantages, strict=True):
                s.advantage = a

    def _forward(self, samples: Sequence[StepSample]) -> tuple[Any, Any]:
        batch, prompt_lengths = collate_samples(self.processor, [s.prompt_inputs for s in samples],
                                                [s.completion_ids for s in samples], padding_side="right",
                                                config=self.accelerator.unwrap_model(self.model).config,
                                                position_rule=self.position_rule)
        return completion_logps(self.model, batch, prompt_lengths=prompt_lengths,
                                completion_lengths=[int(s.completion_ids.shape[0]) for s in samples])

    def _old_logps(self, samples: Sequence[StepSample]) -> None:
        import torch

        size = self.plan.micro_batch_size  # every process has the same sample count: same number of forwards
        with torch.no_grad():
            for start in range(0, len(samples), size):
                chunk = samples[start:start + size]
                logps, _ = self._forward(chunk)
                for s, row in zip(chunk, logps, strict=True):
                    s.old_logps = row[: int(s.completion_ids.shape[0])].detach()

    # ------------------------------------------------------------------ update

    def _sum_over_processes(self, values: Sequence[float]) -> list[float]:
        import torch
        import torch.distributed as dist

        tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.accelerator.device)
        if self.num_processes > 1:
            dist.all_reduce(tensor)
        return tensor.tolist()

    def update(self, samples: Sequence[StepSample]) -> float:
        """One optimizer step on ``samples`` in ``plan.micro_batches`` passes; returns the loss (all processes)."""
        import torch

        if len(samples) != self.plan.samples_per_process:
            raise RuntimeError(f"an update needs {self.plan.samples_per_process} samples on every process, got "
                               f"{len(samples)}")
        local_tokens = sum(0 if s.masked else int(s.completion_ids.shape[0]) for s in samples)
        (global_tokens,) = self._sum_over_processes([local_tokens])
        scale = loss_scale(num_processes=self.num_processes, micro_batches=self.plan.micro_batches)
        self.model.train()
        total = 0.0
        for part in self.plan.micro_batch_slices():
            chunk = samples[part]
            with self.accelerator.accumulate(self.model):
                logps, mask = self._forward(chunk)
                weights = torch.tensor([0.0 if s.masked else 1.0 for s in chunk], device=logps.device)
                old = torch.zeros_like(logps)
                for i, s in enumerate(chunk):
                    old[i, : s.old_logps.shape[0]] = s.old_logps
                advantages = torch.tensor([s.advantage for s in chunk], device=logps.device)
                loss = clipped_loss(logps, old, advantages, mask * weights[:, None], epsilon=self.args.epsilon,
                                    epsilon_high=self.args.epsilon_high, num_tokens=max(global_tokens, 1.0))
                self.accelerator.backward(loss * scale)
                if self.accelerator.sync_gradients:
                    self.grad_norm = self._clip_gradients()
                self.optimizer.step()
                self.optimizer.zero_grad()
                total += float(loss.detach())
        engine = getattr(self.accelerator, "deepspeed_engine_wrapped", None)
        if engine is not None:  # DeepSpeed clips inside its step (gradient_clipping = max_grad_norm)
            self.grad_norm = float(engine.get_global_grad_norm() or 0.0)
        self.scheduler.step()
        (total,) = self._sum_over_processes([total])
        return total

    def _clip_gradients(self) -> float:
        """Clip to ``max_grad_norm`` (when > 0); returns the update's gradient norm before clipping."""
        if getattr(self.accelerator, "deepspeed_engine_wrapped", None) is not None:
            return float("nan")  # read from the engine after its step
        limit = self.args.max_grad_norm if self.args.max_grad_norm > 0 else float("inf")
        norm = self.accelerator.clip_grad_norm_(self.model.parameters(), limit)
        return float(norm) if norm is not None else float("nan")

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
        learning_rate = float(self.scheduler.get_last_lr()[0])
        update_start = time.perf_counter()
        loss = self.update(train)
        stats = []
        for step in (1, 2):
            chosen = [s.reward for s in samples if s.step == step and not s.masked]
            stats += [sum(chosen), len(chosen)]
        component_stats = []  # per reward function and step: sum and count over unmasked samples with a value
        for step in (1, 2):
            for j in range(len(self.reward_funcs)):
                values = [float(s.components[j]) for s in samples
                          if s.step == step and not s.masked and s.components and s.components[j] is not None]
                component_stats += [sum(values), len(values)]
        r1_sum, r1_n, r2_sum, r2_n, num_samples, num_masked, *components = self._sum_over_processes(
            [*stats, len(train), sum(s.masked for s in train), *component_stats])
        self.global_step += 1
        metrics = {"step": float(self.global_step), "learning_rate": learning_rate, "loss": loss,
                   "reward_step1": r1_sum / r1_n if r1_n else float("nan"),
                   "reward_step2": r2_sum / r2_n if r2_n else float("nan"),
                   "num_samples": num_samples, "num_masked": num_masked,
                   "optimizer_steps": float(self.optimizer_steps), "grad_norm": self.grad_norm,
                   "rollout_seconds": rollout_seconds,
                   "update_seconds": time.perf_counter() - update_start}
        pairs = iter(zip(components[::2], components[1::2], strict=True))
        for step in (1, 2):  # e.g. accuracy_step1: mean over the step's unmasked samples that have the reward
            for name in self.reward_names:
                total, count = next(pairs)
                metrics[f"{name}_step{step}"] = total / count if count else float("nan")
        self.history.append(metrics)
        self._log(metrics)
        return metrics

    def _log(self, metrics: dict[str, float]) -> None:
        if not self.is_main_process:
            return
        out = Path(self.args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "metrics.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(metrics) + "\n")
        every = self.args.logging_steps
        if every and int(metrics["step"]) % every == 0:
            logger.info("update %d/%d: %s", int(metrics["step"]), self.total_steps,
                        ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "step"))

    def train(self) -> list[dict[str, float]]:
        from tqdm.auto import tqdm

        if self.is_main_process:  # a fresh run: metrics.jsonl holds this run's updates only
            (Path(self.args.output_dir) / "metrics.jsonl").unlink(missing_ok=True)
        bar = tqdm(range(self.total_steps), desc="grpo",
                   disable=not self.args.progress or not self.is_main_process)
        for _ in bar:
            metrics = self.step()
            bar.set_postfix(loss=f"{metrics['loss']:.4f}", r1=f"{metrics['reward_step1']:.3f}")
            if self.args.save_steps and self.global_step % int(self.args.save_steps) == 0:
                self.save_model(f"{self.args.output_dir}/checkpoint-{self.global_step}")
        return self.history

    def save_model(self, output_dir: str | None = None) -> str:
        """Save weights + processor (loadable by ``HFBackend.from_pretrained``)."""
        output_dir = output_dir or self.args.output_dir
        self.accelerator.wait_for_everyone()
        model = self.accelerator.unwrap_model(self.model)
        state = self.accelerator.get_state_dict(self.model)
        if self.is_main_process:
            model.save_pretrained(output_dir, state_dict=state)
            self.processor.save_pretrained(output_dir)
        self.accelerator.wait_for_everyone()
        return output_dir


def make_grpo_trainer(config: Any, *, model: Any = None, processor: Any = None,
                      records: Sequence[TrainRecord] | None = None, open_video: Any = None,
                      **kwargs: Any) -> DecoupledGRPOTrainer:
    """A :class:`DecoupledGRPOTrainer` over the checked GRPO records (``config``: ZoomGRPOConfig).

    ``kwargs``: ``reward_funcs`` / ``reward_weights`` (the first function is the accuracy, the second the
    format; a format failure or a mask zeroes every function but the format).
    """
    from love_r1.video import FrameCache

    model, processor = prepare_model(config, model, processor)
    manifest = prepare_manifest(config, records, kinds=("grpo",))
    # step-1 and step-2 prompts of a rollout share the fast view and clips: decode them once
    decoder = RecordDecoder(video_root=config.video_root, policy=config.clip_policy(), open_video=open_video,
                            mode=config.decode_mode, cache=FrameCache(max_bytes=1024**3))
    trainer = DecoupledGRPOTrainer(model=model, processor=processor, args=config, train_records=manifest.records,
                                   decoder=decoder, **kwargs)
    trainer.manifest = manifest
    return trainer


__all__ = ["DecoupledGRPOTrainer", "StepSample", "clipped_loss", "collate_samples", "completion_logps",
           "make_grpo_trainer"]
