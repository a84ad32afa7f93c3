#!/usr/bin/env bash
# The whole no-GPU path on tiny random checkpoints, from a clean checkout with the dev install
# (bash scripts/install-dev.sh), in a few minutes on 2 CPU cores:
#
#   bash scripts/smoke.sh
#
# 1. love-r1 synth tiny-model: tiny Qwen2.5-VL and Qwen3-VL checkpoints (runs/tiny/qwen2_5_vl, qwen3_vl)
# 2. love-r1 synth needle + needle-records: a generated needle dataset and its SFT/GRPO records
# 3. love-r1 train sft (configs/sft/tiny.yaml) with 1 process and with 2 (torchrun, gloo)
# 4. love-r1 train grpo (configs/grpo/tiny.yaml) with 1 process and with 2
# 5. love-r1 ask --backend hf (configs/ask/tiny.yaml) with the trained checkpoint and the random Qwen3-VL one
# 6. love-r1 eval of the trained checkpoint on the needle dataset (configs/eval/tiny.yaml)
# The last line printed is a JSON summary: ok, sft_lr_equal_1v2, grpo_lr_equal_1v2,
# grpo_param_max_abs_diff_1v2, seconds, ... Everything is written under runs/tiny/ (log: runs/tiny/smoke.log).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then
    . .venv/bin/activate
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1 HF_HUB_DISABLE_PROGRESS_BARS=1
OUT=runs/tiny
LOG=$OUT/smoke.log
START=$(date +%s)
FAILED=""
rm -rf "$OUT" && mkdir -p "$OUT"
: > "$LOG"

summary() {
    python - "$OUT" "$FAILED" "$START" <<'PY'
import json, math, sys, time
from pathlib import Path

out, failed, start = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
result = {"ok": False, "failed_step": failed or None}

def params(path):
    from safetensors.torch import load_file
    return load_file(str(path / "model.safetensors"))

def max_diff(a, b):
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)

try:
    if not failed:
        sft = [json.loads((out / d / "trainer_state.json").read_text()) for d in ("sft", "sft-2proc")]
        rates = [[h["learning_rate"] for h in s["log_history"] if "learning_rate" in h] for s in sft]
        grpo = [[json.loads(l) for l in (out / d / "metrics.jsonl").read_text().splitlines()] for d in ("grpo", "grpo-2proc")]
        result.update({
            "sft_lr_equal_1v2": rates[0] == rates[1] and len(rates[0]) == sft[0]["global_step"],
            "sft_optimizer_steps_1v2": [s["global_step"] for s in sft],
            "sft_param_max_abs_diff_1v2": max_diff(params(out / "sft"), params(out / "sft-2proc")),
            "grpo_lr_equal_1v2": [m["learning_rate"] for m in grpo[0]] == [m["learning_rate"] for m in grpo[1]],
            "grpo_optimizer_steps_1v2": [int(g[-1]["optimizer_steps"]) for g in grpo],
            "grpo_param_max_abs_diff_1v2": max_diff(params(out / "grpo"), params(out / "grpo-2proc")),
            "grpo_param_change": max_diff(params(out / "grpo"), params(out / "sft")),
            "grpo_reward_step1": [round(m["reward_step1"], 3) for m in grpo[0]],
            "ask_steps": [len(json.loads((out / f).read_text())["steps"])
                          for f in ("ask-trained.json", "ask-qwen3_vl.json")],
            "eval_questions": len((out / "eval" / "results.jsonl").read_text().splitlines()),
        })
        result["ok"] = (result["sft_lr_equal_1v2"] and result["grpo_lr_equal_1v2"]
                        and len(set(result["sft_optimizer_steps_1v2"])) == 1
                        and len(set(result["grpo_optimizer_steps_1v2"])) == 1
                        and result["grpo_param_max_abs_diff_1v2"] <= 1e-5 and result["grpo_param_change"] > 0)
except Exception as error:  # a missing or unreadable output: report it in the summary
    result["error"] = f"{type(error).__name__}: {error}"
result["seconds"] = round(time.time() - start, 1)
print(json.dumps(result))
sys.exit(0 if result["ok"] else 1)
PY
    exit $?
}

step() {  # step NAME COMMAND...: run it, log its output, stop at the first failure
    local name=$1
    shift
    echo "== $name ($(( $(date +%s) - START )) s): $*" | tee -a "$LOG"
    if ! "$@" >> "$LOG" 2>&1; then
        FAILED=$name
        echo "   failed; the end of $LOG:" && tail -n 20 "$LOG"
        summary
    fi
}

TORCHRUN=(python -m torch.distributed.run --nproc_per_node 2 --master_port "${SMOKE_PORT:-29517}")
VIDEO=$OUT/needle/videos/needle_0000.mp4
QUESTION="Which digit is written in the small white box with a red border that appears briefly in the video?"

step tiny-models-qwen2_5_vl love-r1 synth tiny-model --out $OUT/qwen2_5_vl --model-type qwen2_5_vl
step tiny-models-qwen3_vl love-r1 synth tiny-model --out $OUT/qwen3_vl --model-type qwen3_vl
step needle love-r1 synth needle --out $OUT/needle --duration-seconds 30 --num-videos 2 --questions-per-video 2 \
    --width 160 --height 96 --fps 4 --no-progress
step needle-records love-r1 synth needle-records --needle $OUT/needle
step train-sft-1 love-r1 train sft --config configs/sft/tiny.yaml
step train-sft-2 "${TORCHRUN[@]}" -m love_r1.cli train sft --config configs/sft/tiny.yaml \
    --gradient-accumulation-steps 1 --output-dir $OUT/sft-2proc
step train-grpo-1 love-r1 train grpo --config configs/grpo/tiny.yaml
step train-grpo-2 "${TORCHRUN[@]}" -m love_r1.cli train grpo --config configs/grpo/tiny.yaml \
    --output-dir $OUT/grpo-2proc
step ask-trained love-r1 ask --config configs/ask/tiny.yaml "$VIDEO" "$QUESTION" --option "A. 1" --option "B. 2" \
    --model $OUT/grpo --json $OUT/ask-trained.json
step ask-qwen3_vl love-r1 ask --config configs/ask/tiny.yaml "$VIDEO" "$QUESTION" --option "A. 1" --option "B. 2" \
    --model $OUT/qwen3_vl --max-zoom-steps 0 --json $OUT/ask-qwen3_vl.json
step eval love-r1 eval --config configs/eval/tiny.yaml
summary
