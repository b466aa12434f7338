"""The "replay" capture: every Ethernet packet of the public corpus, repeated.

The corpus files are laid end to end on one timeline (first file starting at
`EPOCH_US`), then that whole block is repeated, each repetition shifted past
the previous one, until the packet or byte budget is spent. Inter-packet gaps
longer than `MAX_GAP_US` are shortened so that even a 4 GB capture spans
days rather than centuries (one corpus file covers two and a half years).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pcap_records import (
    PCAP_RECORD_HEADER,
    CaptureDamaged,
    NotEthernet,
    read_ethernet_packets,
    write_pcap_header,
)

EPOCH_US = 1_700_000_000 * 1_000_000  # 2023-11-14T22:13:20Z
MAX_GAP_US = 60 * 1_000_000
FILE_GAP_US = 1_000  # between two corpus files, and between repetitions
WRITE_CHUNK = 64 << 20

Note = Callable[[str], None]


@dataclass(frozen=True)
class CorpusBlock:
    """All usable corpus packets as ready-to-write pcap records (timestamps left blank)."""

    records: npt.NDArray[np.uint8]  # concatenated 16-byte headers + frames
    offsets: npt.NDArray[np.int64]  # start of each record in `records`, plus the total
    ts_us: npt.NDArray[np.int64]  # timestamp of each packet on the block's timeline
    files_used: int
    skipped: tuple[str, ...]  # one note per skipped file

    @property
    def packets(self) -> int:
        return len(self.ts_us)

    @property
    def span_us(self) -> int:
        return int(self.ts_us[-1] - self.ts_us[0]) + FILE_GAP_US


def corpus_files(corpus: Path) -> list[Path]:
    """Every capture-looking file under `corpus`, in a stable order."""
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "README.md")


def corpus_fingerprint(corpus: Path) -> str:
    """Cheap identity of the corpus contents: names, sizes and modification times."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus):
        st = path.stat()
        digest.update(f"{path.relative_to(corpus)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def load_corpus(corpus: Path, note: Note) -> CorpusBlock:
    """Read the corpus once; `note` receives one line per skipped file."""
    parts: list[bytes] = []
    lengths: list[int] = []
    stamps: list[npt.NDArray[np.int64]] = []
    skipped: list[str] = []
    cursor = EPOCH_US
    for path in corpus_files(corpus):
        rel = path.relative_to(corpus)
        why = ""
        try:
            packets, non_ethernet = read_ethernet_packets(path)
        except CaptureDamaged as exc:
            why = f"damaged ({exc})"
        except NotEthernet as exc:
            why = f"not Ethernet ({exc})"
        else:
            why = "" if packets else "no packets"
        if why:
            skipped.append(f"skipped {rel}: {why}")
            note(skipped[-1])
            continue
        if non_ethernet:
            note(f"note {rel}: {non_ethernet} packets on non-Ethernet interfaces left out")
        raw = np.fromiter((p.ts_us for p in packets), np.int64, len(packets))
        gaps = np.clip(np.diff(raw, prepend=raw[0]), 0, MAX_GAP_US)
        stamps.append(cursor + np.cumsum(gaps))
        cursor = int(stamps[-1][-1]) + FILE_GAP_US
        for p in packets:
            parts.append(PCAP_RECORD_HEADER.pack(0, 0, len(p.data), p.orig_len))
            parts.append(p.data)
            lengths.append(16 + len(p.data))
    if not lengths:
        raise SystemExit(f"no usable Ethernet capture under {corpus}")
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    records = np.frombuffer(b"".join(parts), np.uint8)
    return CorpusBlock(records, offsets, np.concatenate(stamps), len(stamps), tuple(skipped))


def write_replay(
    block: CorpusBlock, out_path: Path, max_packets: int | None, max_bytes: int | None
) -> tuple[int, int]:
    """Write repetitions of `block` until either budget is reached; return (packets, bytes)."""
    if max_packets is None and max_bytes is None:
        raise ValueError("need a packet or a byte budget")
    n = block.packets
    # Byte positions of the 8 timestamp bytes of every record in the block.
    ts_index = block.offsets[:-1, None] + np.arange(8, dtype=np.int64)
    stamps = np.empty((n, 2), dtype="<u4")
    packets_done, bytes_done = 0, 24
    repetition = 0
    with open(out_path, "wb", buffering=1 << 20) as out:
        write_pcap_header(out)
        while True:
            take = n
            if max_packets is not None:
                take = min(take, max_packets - packets_done)
            if max_bytes is not None:
                room = max_bytes - bytes_done
                take = min(take, int(np.searchsorted(block.offsets, room, side="right")) - 1)
            if take <= 0:
                break
            ts = block.ts_us[:take] + repetition * block.span_us
            stamps[:take, 0] = ts // 1_000_000
            stamps[:take, 1] = ts % 1_000_000
            chunk = block.records[: block.offsets[take]].copy()
            chunk[ts_index[:take]] = stamps[:take].view(np.uint8).reshape(take, 8)
            for start in range(0, len(chunk), WRITE_CHUNK):
                out.write(chunk[start : start + WRITE_CHUNK].data)
            packets_done += take
            bytes_done += int(block.offsets[take])
            repetition += 1
            if take < n:
                break
    return packets_done, bytes_done
