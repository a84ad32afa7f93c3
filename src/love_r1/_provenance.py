"""What a run was made with: package versions, Python, platform, GPU, the overlay font.

Recorded by ``love-r1 eval`` (a provenance row per (re)start of a run) and by ``love-r1 ask --json``
(the ``run`` object of the episode file). Nothing is imported to find a version.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

# the packages whose versions shape a run's results
PACKAGES = ("love-r1", "torch", "transformers", "vllm", "openai", "av", "numpy", "pillow")


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (absent packages are left out)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def collect_provenance() -> dict[str, Any]:
    """Package versions, Python, platform, the timestamp overlay's font and (when torch is loaded and sees
    one) the GPU name."""
    from love_r1.video import OVERLAY_FONT_NAME

    info: dict[str, Any] = {"versions": package_versions(), "python": sys.version.split()[0],
                            "platform": platform.platform(), "overlay_font": OVERLAY_FONT_NAME}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


__all__ = ["PACKAGES", "collect_provenance", "package_versions"]
