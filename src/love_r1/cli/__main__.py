"""``python -m love_r1.cli ...``: the ``love-r1`` console script run as a module.

Useful where a launcher wants a module rather than a script path, e.g.
``accelerate launch --config_file configs/accelerate/zero3.yaml -m love_r1.cli train sft --config configs/sft/stage2.yaml``.
"""

from love_r1.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
