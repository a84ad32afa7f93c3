"""``CliError``: bad command-line input or an unusable file, reported as one ``error: ...`` line."""

from __future__ import annotations


class CliError(Exception):
    """Raised by a command to stop with ``error: <message>`` on stderr (no traceback) and ``status``.

    Exit statuses used across commands: 1 the work failed (an unreadable video, a failed episode),
    2 bad input (flags, files, data), 3 a resumable step stopped (data steps).
    """

    def __init__(self, message: str, *, status: int = 2) -> None:
        super().__init__(message)
        self.status = status
