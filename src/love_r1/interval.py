"""Half-open time intervals ``[start_seconds, end_seconds)`` in float seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open time interval ``[start_seconds, end_seconds)`` in seconds.

    ``start_seconds <= end_seconds`` and both are finite and non-negative. An empty
    interval (``start == end``) is allowed; ``length_seconds`` is then 0.
    """

    start_seconds: float
    end_seconds: float

    def __post_init__(self) -> None:
        for name in ("start_seconds", "end_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"Interval.{name} must be a number of seconds, got {value!r}")
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"Interval.{name} must be finite, got {value!r}")
            if value < 0:
                raise ValueError(f"Interval.{name} must be >= 0 seconds, got {value!r}")
        if self.end_seconds < self.start_seconds:
            raise ValueError(
                f"Interval end_seconds={self.end_seconds!r} is before start_seconds={self.start_seconds!r}; "
                "hint: reorder the endpoints"
            )

    @property
    def length_seconds(self) -> float:
        return self.end_seconds - self.start_seconds

    def intersection_seconds(self, other: Interval) -> float:
        return max(0.0, min(self.end_seconds, other.end_seconds) - max(self.start_seconds, other.start_seconds))

    def iou(self, other: Interval) -> float:
        """Temporal intersection over union; 0 when the union is empty."""
        inter = self.intersection_seconds(other)
        if inter <= 0:
            return 0.0
        union = self.length_seconds + other.length_seconds - inter
        return inter / union if union > 0 else 0.0

    def as_list(self) -> list[float]:
        return [self.start_seconds, self.end_seconds]

    def __str__(self) -> str:
        return f"[{self.start_seconds:g}, {self.end_seconds:g})"
