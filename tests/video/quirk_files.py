"""Generators of real-world file quirks (stream-copy cuts, concatenated streams, laced Matroska, odd tags).

Each writes a file the way users' tools make it: the ffmpeg CLI for cuts, remuxes and tags (tests
skip with a reason where it is missing), plain byte concatenation for transport streams, and a
small EBML writer for Matroska blocks with lacing (FFmpeg's muxer never laces video; mkvmerge
and hardware recorders do), whose laced frames carry no timestamp.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest


def require_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed; it writes this real-world file quirk (CI installs it)")


def ffmpeg(*args: str | bytes) -> None:
    require_ffmpeg()
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


def stream_copy_cut(source: Path, out: Path, *, start_seconds: float, duration_seconds: float | None = None) -> Path:
    """``ffmpeg -ss S -i source [-t D] -c copy out``: the most common cut; MP4 gets an edit list."""
    extra = ["-t", str(duration_seconds)] if duration_seconds is not None else []
    ffmpeg("-ss", str(start_seconds), "-i", str(source), *extra, "-c", "copy", str(out))
    return out


def concatenated_transport_stream(source: Path, out: Path, *, copies: int = 2) -> Path:
    """``cat a.ts a.ts > out.ts``: every copy restarts its timestamps (a pts reset)."""
    ts = out.with_suffix(".part.ts")
    ffmpeg("-i", str(source), "-c", "copy", "-f", "mpegts", str(ts))
    out.write_bytes(ts.read_bytes() * copies)
    ts.unlink()
    return out


def with_title_tag(source: Path, out: Path, *, title: bytes) -> Path:
    """A remux whose ``title`` tag holds raw bytes (e.g. Latin-1 ``Caf\\xe9``, not UTF-8)."""
    ffmpeg("-i", str(source), "-c", "copy", "-metadata", b"title=" + title, str(out))
    return out


def _vint(n: int) -> bytes:
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError(f"EBML size {n} too large")


def _element(element_id: bytes, payload: bytes) -> bytes:
    return element_id + _vint(len(payload)) + payload


def _uint(element_id: bytes, value: int) -> bytes:
    return _element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def laced_matroska(source: Path, out: Path, *, frames_per_block: int) -> Path:
    """Remux an H.264 MP4 into Matroska with ``frames_per_block`` frames per SimpleBlock (Xiph lacing).

    Only the first frame of a block carries a timestamp; FFmpeg's demuxer reports the others
    with no pts (and no dts). Blocks never straddle a keyframe (a keyframe starts its block).
    """
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        time_base, width, height = stream.time_base, stream.codec_context.width, stream.codec_context.height
        private = bytes(stream.codec_context.extradata)
        packets = [(p.pts, bytes(p), p.is_keyframe) for p in container.demux(stream) if p.size]
    blocks: list[list[tuple[int, bytes, bool]]] = []
    for packet in packets:
        if packet[2] or not blocks or len(blocks[-1]) == frames_per_block:
            blocks.append([])
        blocks[-1].append(packet)
    body = b""
    for group in blocks:
        timecode = round(float(group[0][0] * time_base) * 1000)  # milliseconds (TimecodeScale 1e6 ns)
        flags = 0x80 if group[0][2] else 0
        block = b"\x81" + timecode.to_bytes(2, "big", signed=True)
        if len(group) == 1:
            block += bytes([flags]) + group[0][1]
        else:
            sizes = b"".join(b"\xff" * (len(d) // 255) + bytes([len(d) % 255]) for _, d, _ in group[:-1])
            block += bytes([flags | 0x02, len(group) - 1]) + sizes + b"".join(d for _, d, _ in group)
        body += _element(b"\xa3", block)
    header = _element(b"\x1a\x45\xdf\xa3", _uint(b"\x42\x86", 1) + _element(b"\x42\x82", b"matroska")
                      + _uint(b"\x42\x87", 4) + _uint(b"\x42\x85", 2))
    info = _element(b"\x15\x49\xa9\x66", _uint(b"\x2a\xd7\xb1", 1_000_000) + _element(b"\x4d\x80", b"love-r1 test")
                    + _element(b"\x57\x41", b"love-r1 test"))
    track = _element(b"\xae", _uint(b"\xd7", 1) + _uint(b"\x73\xc5", 1) + _uint(b"\x83", 1)
                     + _element(b"\x86", b"V_MPEG4/ISO/AVC") + _element(b"\x63\xa2", private)
                     + _element(b"\xe0", _uint(b"\xb0", width) + _uint(b"\xba", height)))
    segment = _element(b"\x18\x53\x80\x67", info + _element(b"\x16\x54\xae\x6b", track)
                       + _element(b"\x1f\x43\xb6\x75", _uint(b"\xe7", 0) + body))
    out.write_bytes(header + segment)
    return out


def sequential_decode(path: Path) -> list[np.ndarray]:
    """Oracle for pixels: every frame a plain sequential PyAV decode outputs, as RGB (no seeking, no index)."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(container.streams.video[0])]
