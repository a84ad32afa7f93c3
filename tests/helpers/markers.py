"""Named skip markers for optional third-party dependencies, each with the reason and the extra to install.

    from tests.helpers.markers import requires_torch

    @requires_torch
    def test_with_a_tiny_model(): ...

    pytestmark = requires_av  # a whole module

love-r1's own modules are never skipped: a test imports them directly, so a broken import fails.
The browser tests have their own marker (``tests.browser.requires_browser``).
"""

from __future__ import annotations

import pytest

from love_r1._imports import is_available


def _requires(module: str, *, install: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not is_available(module), reason=f"needs {module} ({install})")


requires_av = _requires("av", install="pip install 'love-r1[video]'")
requires_torch = _requires("torch", install="pip install 'love-r1[hf]'")
requires_torchvision = _requires("torchvision", install="pip install 'love-r1[hf]'")
requires_transformers = _requires("transformers", install="pip install 'love-r1[hf]'")
requires_openai = _requires("openai", install="pip install 'love-r1[openai]'")
requires_deepspeed = _requires("deepspeed", install="pip install 'love-r1[deepspeed]'")
requires_vllm = _requires("vllm", install="pip install 'love-r1[vllm]' on a CUDA machine")
requires_torchcodec = _requires("torchcodec", install="pip install 'love-r1[bench]'")
requires_qwen_vl_utils = _requires("qwen_vl_utils", install="the smart-resize oracle: pip install 'love-r1[dev]'")
