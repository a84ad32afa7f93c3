"""Disposable packets: H.264 / HEVC pictures that no other picture references (pure NAL-header parsing).

A packet whose picture is never used for inter prediction can be withheld from the decoder
without changing any other decoded frame (what FFmpeg's ``skip_frame=NONREF`` does inside
the decoder). We decide it from the first byte(s) of each NAL unit:

- H.264: every slice NAL unit is a non-IDR slice (type 1) with ``nal_ref_idc == 0``; other NAL
  units may only be access unit delimiters (9), filler (12) or SEI (6) whose payloads are
  timing / user data / filler (types 0, 1, 3, 4, 5).
- HEVC: every VCL NAL unit is a sub-layer non-reference type (TRAIL_N 0, TSA_N 2, STSA_N 4,
  RADL_N 6, RASL_N 8, RSV_VCL_N10/12/14) in the HIGHEST temporal sub-layer (a sub-layer
  non-reference picture may still be referenced by higher sub-layers); other NAL units may only
  be delimiters (35), filler (38) or SEI (39, 40) with the same payload types as H.264 or a
  decoded picture hash (132).
  Needs the ``hvcC`` header (MP4/MKV) for the number of temporal sub-layers.

Both length-prefixed (``avcC``/``hvcC`` in MP4/MKV; length size from the extradata) and
Annex-B (start codes; ``.ts``/``.h264``) layouts are parsed. Anything unexpected (a truncated
NAL, another NAL type, another codec) means "not disposable", so the worst case is no saving.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# SEI payload types that carry no decoding state: buffering period, picture timing,
# filler payload, user data registered (captions), user data unregistered (encoder info).
_HARMLESS_SEI = frozenset({0, 1, 3, 4, 5})
_HEVC_HARMLESS_SEI = _HARMLESS_SEI | {132}  # + decoded picture hash (a checksum; x265 --hash)
_H264_SLICE = 1
_H264_SEI = 6
_H264_OTHER_OK = frozenset({9, 12})  # access unit delimiter, filler data
_HEVC_NONREF_VCL = frozenset({0, 2, 4, 6, 8, 10, 12, 14})
_HEVC_SEI = frozenset({39, 40})  # prefix / suffix SEI
_HEVC_OTHER_OK = frozenset({35, 38})  # access unit delimiter, filler data


@dataclass(frozen=True)
class NalLayout:
    """How one stream's packets are laid out.

    Attributes:
        codec: ``"h264"`` or ``"hevc"``.
        length_size: bytes of each NAL length prefix (1-4); 0 = Annex-B start codes.
        max_temporal_id: HEVC: highest ``TemporalId`` of the stream (from ``hvcC``); 0 for H.264.
    """

    codec: str
    length_size: int
    max_temporal_id: int = 0


def nal_layout(*, codec: str, extradata: bytes | None) -> NalLayout | None:
    """The packet layout of an H.264 / HEVC stream, or ``None`` when packets cannot be judged.

    ``None`` for other codecs and for HEVC without an ``hvcC`` header (the temporal sub-layer
    count is unknown there, so no picture is provably unreferenced).
    """
    data = bytes(extradata or b"")
    if codec == "h264":
        if len(data) >= 7 and data[0] == 1:  # avcC: configurationVersion 1; lengthSizeMinusOne in byte 4
            return NalLayout(codec="h264", length_size=(data[4] & 3) + 1)
        return NalLayout(codec="h264", length_size=0)
    if codec == "hevc":
        if len(data) >= 23 and data[0] == 1:  # hvcC: byte 21 = fr(2) numTemporalLayers(3) nested(1) lenMinusOne(2)
            layers = (data[21] >> 3) & 7
            if layers == 0:  # unknown
                return None
            return NalLayout(codec="hevc", length_size=(data[21] & 3) + 1, max_temporal_id=layers - 1)
        return None
    return None


def iter_nal_units(data: bytes | memoryview, *, length_size: int) -> Iterator[tuple[int, int] | None]:
    """``(begin, end)`` byte offsets of the NAL units of one packet, in order; ``None`` (and stop) where the
    packet is malformed. Lazy, so a caller can stop at the first unit that decides its question.

    ``data`` may be a ``memoryview`` of the packet (no copy) for length-prefixed layouts.
    """
    n = len(data)
    if length_size:
        pos = 0
        while pos < n:
            if pos + length_size > n:
                yield None
                return
            size = 0
            for i in range(pos, pos + length_size):  # big-endian; indexing a memoryview copies nothing
                size = (size << 8) | data[i]
            pos += length_size
            if size == 0 or pos + size > n:
                yield None
                return
            yield pos, pos + size
            pos += size
        return
    # Annex-B: units start after 00 00 01; zero bytes before the next start code are trailing data
    data = bytes(data)
    start = data.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        end = n if nxt < 0 else nxt
        while end > begin and data[end - 1] == 0:
            end -= 1
        if end > begin:
            yield begin, end
        start = nxt


def _sei_number(rbsp: bytes, pos: int) -> tuple[int, int] | None:
    """An SEI payload type or size (``0xFF`` bytes, each adding 255, then the last byte) read at ``pos``:
    ``(value, position after it)``, or ``None`` past the end."""
    value = 0
    while pos < len(rbsp) and rbsp[pos] == 0xFF:
        value += 255
        pos += 1
    if pos >= len(rbsp):
        return None
    return value + rbsp[pos], pos + 1


def _sei_payload_types(rbsp: bytes) -> list[int] | None:
    """Payload types of the SEI messages in an SEI RBSP (emulation prevention removed), ``None`` if malformed."""
    types: list[int] = []
    pos, n = 0, len(rbsp)
    while pos < n and rbsp[pos:] != b"\x80":
        kind = _sei_number(rbsp, pos)
        size = None if kind is None else _sei_number(rbsp, kind[1])
        if kind is None or size is None or size[1] + size[0] > n:
            return None
        pos = size[1] + size[0]
        types.append(kind[0])
    return types


def _sei_is_harmless(payload: bytes | memoryview, *, harmless: frozenset[int] = _HARMLESS_SEI) -> bool:
    types = _sei_payload_types(bytes(payload).replace(b"\x00\x00\x03", b"\x00\x00"))
    return types is not None and all(t in harmless for t in types)


def is_disposable(data: bytes | memoryview, *, layout: NalLayout) -> bool:
    """``True`` when the packet's picture is referenced by no other picture (see the module docstring).

    ``data``: the packet's bytes, or a ``memoryview`` of it (no copy).
    """
    if layout.length_size == 0:
        data = bytes(data)  # Annex-B: start codes are searched in bytes
    units = iter_nal_units(data, length_size=layout.length_size)  # stops at the first deciding unit
    has_picture = False
    if layout.codec == "h264":
        for unit in units:
            if unit is None:
                return False
            begin, end = unit
            header = data[begin]
            if header & 0x80:  # forbidden_zero_bit
                return False
            kind = header & 0x1F
            if kind == _H264_SLICE:
                if header & 0x60:  # nal_ref_idc != 0
                    return False
                has_picture = True
            elif kind == _H264_SEI:
                if not _sei_is_harmless(data[begin + 1:end]):
                    return False
            elif kind not in _H264_OTHER_OK:
                return False
        return has_picture
    for unit in units:
        if unit is None:
            return False
        begin, end = unit
        if end - begin < 2 or data[begin] & 0x80:
            return False
        if (data[begin] & 1) or (data[begin + 1] >> 3):  # nuh_layer_id > 0 (multi-layer stream): do not judge
            return False
        kind = (data[begin] >> 1) & 0x3F
        if kind < 32:
            temporal_id = (data[begin + 1] & 7) - 1
            if kind not in _HEVC_NONREF_VCL or temporal_id != layout.max_temporal_id:
                return False
            has_picture = True
        elif kind in _HEVC_SEI:
            if not _sei_is_harmless(data[begin + 2:end], harmless=_HEVC_HARMLESS_SEI):
                return False
        elif kind not in _HEVC_OTHER_OK:
            return False
    return has_picture
