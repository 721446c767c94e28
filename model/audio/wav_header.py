"""What a RIFF/WAVE header declares, read without trusting it: rate, channels, and data length vs. what is there.

libsndfile quietly reads a WAV whose data chunk is shorter than its header says (a recorder that
crashed, a copy cut short) as a shorter recording. Reading the header here lets StutterScope say the
file is truncated and how much is missing. The parser reads at most a few KiB, never raises on
garbage (it returns None for anything that is not a readable RIFF/WAVE header) and treats the
sizes 0 and 0xFFFFFFFF as "unknown" (what streaming writers leave before they finish, and RF64).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # sizes a writer leaves when it does not know the length yet
_MAX_CHUNKS = 64  # chunks before `data` worth walking through; more is not a WAV anyone wrote
_HEADER_READ = 1 << 16  # bytes read from the start: fmt and data chunks come well within this


@dataclass(frozen=True)
class WavHeader:
    sample_rate: int  # Hz, as the fmt chunk declares it
    channels: int
    block_align: int  # bytes per frame (all channels)
    data_offset: int  # byte offset of the first sample
    declared_bytes: int | None  # what the data chunk's size field says; None when unknown (0 / 0xFFFFFFFF)
    available_bytes: int  # bytes actually in the file from data_offset on

    @property
    def declared_frames(self) -> int | None:
        if self.declared_bytes is None or self.block_align <= 0:
            return None
        return self.declared_bytes // self.block_align

    @property
    def truncated(self) -> bool:
        """The data chunk claims more bytes than the file holds (by at least one frame)."""
        return (self.declared_bytes is not None and self.block_align > 0
                and self.declared_bytes - self.available_bytes >= self.block_align)

    @property
    def declared_seconds(self) -> float | None:
        frames = self.declared_frames
        return None if frames is None or self.sample_rate <= 0 else frames / self.sample_rate


def parse_wav_header(head: bytes, file_size: int) -> WavHeader | None:
    """Parse the first bytes of a file (head) of file_size bytes; None if it is not a RIFF/WAVE with fmt and data."""
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    pos = 12
    fmt: tuple[int, int, int] | None = None  # channels, rate, block_align
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(head):
            return None
        chunk_id, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(head):
                return None
            _tag, channels, rate, _byte_rate, block_align = struct.unpack_from("<HHIIH", head, body)
            fmt = (channels, rate, block_align)
        elif chunk_id == b"data":
            if fmt is None:
                return None
            channels, rate, block_align = fmt
            return WavHeader(sample_rate=rate, channels=channels, block_align=block_align, data_offset=body,
                             declared_bytes=None if size in _UNKNOWN_SIZES or head[:4] == b"RF64" else size,
                             available_bytes=max(0, file_size - body))
        pos = body + size + (size & 1)  # chunks are padded to an even length
    return None


def read_wav_header(path: str | Path) -> WavHeader | None:
    """The header of the WAV file at path, or None for anything else (including unreadable files)."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER_READ)
            size = f.seek(0, 2)
    except OSError:
        return None
    return parse_wav_header(head, size)
