"""Protocol constants the released LOVE-R1 checkpoints were trained and evaluated on.

These strings are taken verbatim (character for character) from the reference code,
HumanMLLM/LOVE-R1 at commit aa1facb:

* ``VLMEvalKit/vlmeval/vlm/qwen2_vl/model_sample_frame.py`` (evaluation): ``SYSTEM_PROMPT2``,
  the system message, the ``Full video`` / ``Subset zoom-in video clip`` labels, the forced
  answer prefix and the per-benchmark answer instructions;
* ``src/r1-v/src/open_r1/grpo.py`` (stage-3 training): ``SYSTEM_PROMPT`` (identical to the
  decision instruction above) and ``TYPE_TEMPLATE``;
* ``src/r1-v/src/open_r1/sft_video.py`` (stages 1-2): the same system message and labels.

Do not edit them: the checkpoints' behaviour depends on the exact text. Snapshot tests in
``tests/prompts`` pin every rendered prompt byte for byte.
"""

from __future__ import annotations

# The system message (a plain string content in the reference's chat messages).
SYSTEM_MESSAGE = (
    "You are a helpful assistant. The red numbers on each frame represent the timestamp in seconds "
    "and you can refer them during temporal grounding."
)

# Appended after the question and the answer-format instruction (starts with a newline).
DECISION_INSTRUCTION = (
    "\nBased on the video and the user question, determine whether the visual content is sufficient to "
    "answer the question. If you have enough information, reason using the visual content and provide your "
    "final answer within \\boxed{}. Otherwise, you may zoom in a specific interval of the video related to "
    "the question for more details based on your reasoning. Also provide the time span of the interval in "
    "seconds within \\boxed{[start_time, end_time]}."
)

# Labels before the fast view and each zoom clip (printf-style, integer seconds).
FULL_VIDEO_LABEL = "Full video [%d, %d]:"
ZOOM_CLIP_LABEL = "Subset zoom-in video clip [%d, %d]:"

# Control phrases that start every reply (each followed by a blank line).
ZOOM_PHRASE = "I need to zoom in on the video."
ANSWER_PHRASE = "I get the answer."
# Pre-filled assistant text of the forced-answer step.
FORCED_ANSWER_PREFIX = ANSWER_PHRASE + "\n\n"
# Pre-filled assistant text of grounding steps in stage-3 training.
ZOOM_PREFIX = ZOOM_PHRASE + "\n\n"

# Evaluation answer instructions (model_sample_frame.py), appended to the question text.
SINGLE_LETTER_INSTRUCTION = "\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer."
# LVBench: note the reference appends it with no leading newline.
LVBENCH_LETTER_INSTRUCTION = "Respond with only the letter (A, B, C, or D) of the correct option."

# Training answer-format templates per problem type (grpo.py TYPE_TEMPLATE).
TYPE_TEMPLATE = {
    "multiple choice": "\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer.",
    "numerical": "\nProvide the numerical value (e.g., 42 or 3.14) without units as the answer.",
    "OCR": " \nTranscribe text from the image/video clearly and provide your text answer.",
    "free-form": "\nProvide your text answer.",
    "regression": "\nProvide the numerical value (e.g., 42 or 3.14) without units as the answer.",
    "tal": "\nProvide the answer in list format, ie, [start_time, end_time].",
}
# Qwen chat-template end-of-turn tokens (the checkpoints' tokenizer). Free steps are decoded with
# special tokens kept, as model_sample_frame.py does, so a reply that stopped at the end of its turn
# ends with one of these in the recorded text; they are not shown to people.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|endoftext|>")

# GRPO question text: problem + OPTIONS_HEADER + each option followed by "\n".
OPTIONS_HEADER = "Options:\n"
