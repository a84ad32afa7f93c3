"""The README's first command needs only the ``video`` extra: ``--help``, ``synth``, ``ask``/``eval`` with the
scripted stand-in, ``report``, ``trace`` and ``sample`` run with every other extra's packages made unimportable,
and none of them imports torch or transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).parents[2] / "src"

# what the `video` extra does not install (pyproject.toml: hf, openai, eval, train, serve, vllm, bench, dev)
NOT_IN_VIDEO_EXTRA = ("torch", "torchvision", "transformers", "accelerate", "openai", "httpx", "pydantic",
                      "huggingface_hub", "pyarrow", "trl", "datasets", "starlette", "uvicorn", "vllm", "decord",
                      "torchcodec", "deepspeed", "safetensors", "tokenizers")

_RUNNER = textwrap.dedent("""
    import importlib.abc, json, sys

    BLOCKED = set(json.loads(sys.argv[1]))

    class Missing(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Missing())
    from love_r1.cli import main

    statuses = [main(argv) for argv in json.loads(sys.argv[2])]
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
    print(json.dumps({"statuses": statuses, "loaded": loaded}))
""")


def test_scripted_and_synthetic_paths_need_only_the_video_extra(tmp_path):
    demo, run = tmp_path / "demo", tmp_path / "runs" / "dry"
    video = demo / "videos" / "needle_0000.mp4"
    commands = [
        ["synth", "needle", "--out", str(demo), "--duration-seconds", "30", "--num-videos", "1", "--width", "160",
         "--height", "96", "--fps", "4", "--questions-per-video", "2", "--no-progress"],
        ["ask", str(video), "Which digit?", "--option", "A. 7", "--option", "B. 3", "--backend", "scripted",
         "--json", str(tmp_path / "e.json"), "--trace", str(tmp_path / "t.html")],
        ["eval", "--benchmark", "needle", "--data-root", str(demo), "--out", str(run), "--backend", "scripted",
         "--no-progress", "--prefetch-workers", "0"],
        ["report", str(run), "--format", "html", "--output", str(tmp_path / "r.html"), "--frame-items", "1"],
        ["trace", str(run), "needle_0000_q0", "--output", str(tmp_path / "q0.html")],
        ["rescore", str(run)],
        ["sample", str(video), "--start-seconds", "2", "--end-seconds", "6"],
        ["synth", "indexed", "--out", str(tmp_path / "i.mp4"), "--duration-seconds", "2", "--no-progress"],
        ["data", "check", str(tmp_path / "missing.jsonl")],  # exit 2: the file is missing (no import error)
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(NOT_IN_VIDEO_EXTRA), json.dumps(commands)],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [0, 0, 0, 0, 0, 0, 0, 0, 2], done.stderr[-3000:]
    assert result["loaded"] == []
    assert "error: 'tmp" not in done.stderr and "No module named" not in done.stderr


def test_help_of_every_command_without_the_model_extras():
    commands = [["--help"]] + [[name, "--help"] for name in ("ask", "serve", "eval", "report", "trace", "rescore",
                                                             "data", "synth", "sample", "train")]
    commands += [["data", leaf, "--help"] for leaf in ("caption", "zoom-cot", "mine-hard", "contamination")]
    runner = _RUNNER.replace("statuses = [main(argv) for argv in json.loads(sys.argv[2])]", textwrap.dedent("""
        statuses = []
        for argv in json.loads(sys.argv[2]):
            try:
                statuses.append(main(argv))
            except SystemExit as stop:
                statuses.append(stop.code)
    """).strip())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", runner, json.dumps(NOT_IN_VIDEO_EXTRA), json.dumps(commands)],
                          capture_output=True, text=True, env=env, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [0] * len(commands), done.stderr[-2000:]
    assert result["loaded"] == []
    # the training stages describe their options from the `train` extra: without it, one clear line
    done = subprocess.run([sys.executable, "-c", runner, json.dumps(NOT_IN_VIDEO_EXTRA),
                           json.dumps([["train", "sft", "--help"]])], capture_output=True, text=True, env=env,
                          timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1])["statuses"] == [2]
    assert done.stderr.strip() == ("error: 'trl' is needed but is not installed; install it with: pip install "
                                   "'love-r1[train]'")
    # serve runs on its extra's web stack: without it, one line naming the extra (the runner's ImportError rule)
    done = subprocess.run([sys.executable, "-c", runner, json.dumps(NOT_IN_VIDEO_EXTRA),
                           json.dumps([["serve", "--backend", "scripted"]])], capture_output=True, text=True, env=env,
                          timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1])["statuses"] == [2]
    assert done.stderr.strip().startswith("error: ") and "pip install 'love-r1[serve]'" in done.stderr
    assert "Traceback" not in done.stderr
