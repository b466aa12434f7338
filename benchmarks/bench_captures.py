"""Build the benchmark captures once and reuse them while their recipe is unchanged.

Each capture `<name>.pcap` has a sidecar `<name>.json` holding the recipe it
was built from and what it contains. A capture is rebuilt when the recipe
(sizes, seed, corpus fingerprint, generator version) differs or the file
size no longer matches. Files are written under a temporary name and
renamed, so an interrupted build never leaves a capture that looks complete.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conversation_capture import build_network, write_conversations
from replay_capture import CorpusBlock, corpus_fingerprint, load_corpus, write_replay

GENERATOR_VERSION = 2  # 2: DNP3 frames with right link CRCs


@dataclass(frozen=True)
class Capture:
    name: str
    kind: str  # replay or many-conversations
    path: Path
    packets: int
    bytes: int
    details: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


def say(message: str) -> None:
    """Progress and notes go to stderr so stdout holds only the results table."""
    print(message, file=sys.stderr, flush=True)


class CaptureShelf:
    """The work directory: builds captures on demand, reads the corpus at most once."""

    def __init__(self, work_dir: Path, corpus: Path, rebuild: bool) -> None:
        self.work_dir = work_dir
        self.corpus = corpus
        self.rebuild = rebuild
        self._block: CorpusBlock | None = None
        self._fingerprint: str | None = None

    def _corpus_block(self) -> CorpusBlock:
        if self._block is None:
            say(f"reading corpus {self.corpus}")
            self._block = load_corpus(self.corpus, say)
            say(
                f"corpus: {self._block.packets} Ethernet packets from "
                f"{self._block.files_used} files, {len(self._block.skipped)} files skipped"
            )
        return self._block

    def _corpus_fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = corpus_fingerprint(self.corpus)
        return self._fingerprint

    def replay(self, name: str, max_packets: int | None, max_bytes: int | None) -> Capture:
        """Corpus packets repeated up to `max_packets` packets or `max_bytes` bytes."""
        recipe = {
            "kind": "replay",
            "max_packets": max_packets,
            "max_bytes": max_bytes,
            "corpus": self._corpus_fingerprint(),
        }

        def build(path: Path) -> tuple[int, dict[str, Any], tuple[str, ...]]:
            block = self._corpus_block()
            packets, _ = write_replay(block, path, max_packets, max_bytes)
            details: dict[str, Any] = {
                "corpus_packets": block.packets,
                "corpus_files": block.files_used,
                "repetitions": round(packets / block.packets, 2),
            }
            return packets, details, block.skipped

        return self._cached(name, recipe, build)

    def conversations(self, name: str, conversations: int, hosts: int, seed: int) -> Capture:
        """The synthetic many-hosts, many-conversations capture."""
        recipe = {"kind": "many-conversations", "conversations": conversations}
        recipe |= {"hosts": hosts, "seed": seed}

        def build(path: Path) -> tuple[int, dict[str, Any], tuple[str, ...]]:
            stats = write_conversations(build_network(conversations, hosts, seed), path)
            details = {
                "hosts": stats.hosts,
                "conversations": stats.conversations,
                "tcp_conversations": stats.tcp_conversations,
                "udp_conversations": stats.udp_conversations,
            }
            return stats.packets, details, ()

        return self._cached(name, recipe, build)

    def _cached(
        self,
        name: str,
        recipe: dict[str, Any],
        build: Callable[[Path], tuple[int, dict[str, Any], tuple[str, ...]]],
    ) -> Capture:
        recipe = {**recipe, "generator_version": GENERATOR_VERSION}
        path = self.work_dir / f"{name}.pcap"
        meta_path = self.work_dir / f"{name}.json"
        if not self.rebuild and meta_path.exists() and path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("recipe") == recipe and meta.get("bytes") == path.stat().st_size:
                say(f"{name}: cached, {meta['packets']:,} packets, {meta['bytes'] / 1e6:.0f} MB")
                return _capture_from(name, path, meta)
        meta_path.unlink(missing_ok=True)
        partial = path.with_name(path.name + ".partial")
        say(f"{name}: building {path}")
        started = time.perf_counter()
        packets, details, notes = build(partial)
        partial.replace(path)
        seconds = time.perf_counter() - started
        meta = {"recipe": recipe, "packets": packets, "bytes": path.stat().st_size}
        meta |= {"details": details, "notes": list(notes), "build_seconds": round(seconds, 2)}
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        say(f"{name}: built in {seconds:.1f} s, {packets:,} packets, {meta['bytes'] / 1e6:.0f} MB")
        return _capture_from(name, path, meta)

    def has_room_for(self, name: str, nbytes: int) -> bool:
        """Whether capture `name` of about `nbytes` fits, counting any copy already there."""
        existing = self.work_dir / f"{name}.pcap"
        needed = nbytes - (existing.stat().st_size if existing.exists() else 0)
        free = shutil.disk_usage(self.work_dir).free
        say(
            f"disk: {name} needs about {nbytes / 1e9:.1f} GB in {self.work_dir} "
            f"({max(needed, 0) / 1e9:.1f} GB more), {free / 1e9:.1f} GB free"
        )
        return free > needed * 1.05 + (1 << 30)


def _capture_from(name: str, path: Path, meta: dict[str, Any]) -> Capture:
    return Capture(
        name=name,
        kind=str(meta["recipe"]["kind"]),
        path=path,
        packets=int(meta["packets"]),
        bytes=int(meta["bytes"]),
        details=dict(meta.get("details", {})),
        notes=tuple(meta.get("notes", ())),
    )
