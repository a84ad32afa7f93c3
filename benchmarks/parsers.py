"""Reply-parser benchmark: seconds per call on degenerate replies, and how they grow with length.

Launch:
    python benchmarks/parsers.py                 # 25k, 50k and 100k characters
    python benchmarks/parsers.py --sizes 10000 40000 --repeats 5

For every reply parser (the reply grammar, the answer extractor in both modes, the teacher-judge
readers, the GRPO rewards) and every degenerate reply shape ("answer" + spaces, thousands of
unclosed ``\\boxed{``, unclosed ``<think>``, ...), it prints the worst shape's seconds at each size
and the growth factor between the smallest and the largest size. A linear parser grows by the
size ratio (4x from 25k to 100k characters); a quadratic one by its square (16x). Before the fix,
``extract_choice`` took 108 s on "answer" + 40k spaces and 23.6 s on 5.7k unclosed boxes.

Prints a table, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import json
import time

from love_r1.agent.grammar import parse_reply
from love_r1.data._parse import parse_boxed_interval, parse_boxed_letter, parse_yes_no
from love_r1.eval.extract import extract_choice
from love_r1.train import rewards

OPTIONS = ["A. a red car", "B. a blue bus", "C. a green tram", "D. nothing at all"]


def shapes(n: int) -> dict[str, str]:
    return {
        "answer+spaces": "answer" + " " * n,
        "unclosed boxes": "\\boxed{" * (n // 7),
        "unclosed think": "<think>" * (n // 7),
        "answer tags": "<answer>" * (n // 8),
        "braces": "{" * n,
        "labels": "A. " * (n // 3),
        "interval spaces": "\\boxed{[1" + " " * n + ", 2]}",
        "text commands": "\\boxed{" + "\\text{" * (n // 6),
        "option text": "a blue " * (n // 7),
    }


PARSERS = {
    "parse_reply": parse_reply,
    "extract_choice": lambda t: extract_choice(t, OPTIONS),
    "extract_choice classic": lambda t: extract_choice(t, OPTIONS, mode="classic"),
    "parse_boxed_letter": lambda t: parse_boxed_letter(t, letters="ABCD"),
    "parse_boxed_interval": parse_boxed_interval,
    "parse_yes_no": parse_yes_no,
    "format_reward": lambda t: rewards.format_reward([t], duration_seconds=[100.0]),
    "answer_reward": lambda t: rewards.answer_reward([t], gold=["B"], options=[OPTIONS]),
}


def seconds(function, text: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 50_000, 100_000],
                        help="reply lengths to time (characters)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the fastest counts")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    results: dict[str, dict] = {}
    header = f"{'parser':24s}" + "".join(f"{f'{n:,} chars (s)':>18s}" for n in sizes) + f"{'growth':>10s}  worst shape"
    print(header)
    print("-" * len(header))
    for name, function in PARSERS.items():
        worst_shape, per_size = "", []
        for n in sizes:
            timings = {shape: seconds(function, text, args.repeats) for shape, text in shapes(n).items()}
            shape = max(timings, key=timings.get)
            worst_shape = shape if n == sizes[-1] else worst_shape
            per_size.append(timings[shape])
        growth = per_size[-1] / max(per_size[0], 1e-9)
        results[name] = {"seconds": dict(zip(map(str, sizes), per_size, strict=True)), "growth": growth,
                         "worst_shape": worst_shape}
        print(f"{name:24s}" + "".join(f"{t:18.4f}" for t in per_size) + f"{growth:9.1f}x  {worst_shape}")
    print(f"(size ratio {sizes[-1] / sizes[0]:.0f}x: linear parsers grow about that much, quadratic ones its square)")
    print(json.dumps({"sizes": sizes, "parsers": results}))


if __name__ == "__main__":
    main()
