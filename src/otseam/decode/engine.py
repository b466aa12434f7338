"""The frame decoder: the compiled walker plus the dissectors it feeds.

The readers in ``otseam.sources`` push capture bytes through ``walker``; after
each walk the decoder ``collect``s the new application messages (the first of
each group) while their bytes are still in memory and hands each to its
protocol's dissector. ``finish`` returns the capture's ``CaptureFacts``.
"""

from __future__ import annotations

from itertools import islice
from typing import Final, TypeVar

import numpy as np

from otseam.decode import _framewalk
from otseam.decode.addresses import ip_text, mac_text
from otseam.decode.layout import BINDING, CONVERSATION, EVENT, GROUP, STATION, Counter
from otseam.decode.reassembly import TcpStream
from otseam.errors import DissectorError
from otseam.model.capture import CaptureFacts, Counted
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
    Transport,
)
from otseam.protocols.catalog import REGISTRY
from otseam.protocols.registry import Registry
from otseam.sources.problems import Problem

__all__ = ["FrameDecoder"]

MAX_OBSERVATIONS_PER_MESSAGE: Final = 256
NO_GROUP: Final = 0xFFFFFFFF
K = TypeVar("K")


class FrameDecoder:
    """Decodes one capture; create a new one (or ``reset``) per capture."""

    def __init__(
        self, registry: Registry = REGISTRY, strict: bool = False, dissect: bool = True
    ) -> None:
        self.registry = registry
        self.strict = strict
        self.walker = _framewalk.Walker()
        self.walker.configure(*registry.walker_tables(dissect))
        self.walker.configure_framing(registry.framing_table())
        self._streams: dict[tuple[int, int], TcpStream] = {}
        self._by_group: dict[int, list[Observation]] = {}
        self._single: list[tuple[Observation, int]] = []  # stream mode, count 1 each
        self._contexts: dict[tuple[int, int, int], MessageContext] = {}

    def collect(self, window: memoryview) -> None:
        """Dissect the messages the last walk found in ``window``."""
        raw = self.walker.take_events()
        if not raw:
            return
        for event in np.frombuffer(raw, dtype=EVENT).tolist():
            ts, group, offset, length, _seq, owner, direction, app, _flags, _pad = event
            ctx = self._context(owner, direction, app, ts)
            message = bytes(window[offset : offset + length])
            if group != NO_GROUP:
                self._by_group[group] = self._dissect(app, message, ctx)
                continue
            for pdu in self._stream_pdus(owner, direction, app, _seq, message, ctx):
                self._single.extend((o, ts) for o in self._dissect(app, pdu, ctx))

    def _stream_pdus(
        self,
        owner: int,
        direction: int,
        app: int,
        seq: int,
        message: bytes,
        ctx: MessageContext,
    ) -> list[bytes]:
        """Messages of a stream event: whole PDUs after reassembly where the
        protocol is framed, else the message as it came."""
        spec = self.registry.spec_of(app)
        if spec is None or spec.framing is None:
            return [message]
        stream = self._streams.get((owner, direction))
        if stream is None:
            stream = self._streams[(owner, direction)] = TcpStream(spec.framing)
        skipped = stream.skipped
        pdus = stream.add(seq, message)
        if stream.skipped > skipped:
            reason = "TCP stream bytes that start no PDU were skipped (lost segment or damage)"
            self._single.append(
                (Malformed(ctx.src, ctx.dst, spec.name, reason, message[:64]), ctx.ts_ns)
            )
        return pdus

    def _context(self, owner: int, direction: int, app: int, ts: int) -> MessageContext:
        name = self.registry.name_of(app) or f"unknown-{app}"
        key = (owner, direction, app)
        ctx = self._contexts.get(key)
        if ctx is not None:
            return MessageContext(
                ctx.protocol, ctx.transport, ctx.src, ctx.dst, ctx.sport, ctx.dport, ts
            )
        if direction == 2:
            station = np.frombuffer(self.walker.station(owner), dtype=STATION)[0]
            mac = mac_text(int(station["mac"]))
            ctx = MessageContext(name, "l2", mac, "", 0, 0, ts)
        else:
            conv = np.frombuffer(self.walker.conversation(owner), dtype=CONVERSATION)[0]
            family = int(conv["family"])
            a, b = ip_text(family, conv["a"].tobytes()), ip_text(family, conv["b"].tobytes())
            pa, pb = int(conv["port_a"]), int(conv["port_b"])
            transport: Transport = "tcp" if int(conv["proto"]) == 6 else "udp"
            if direction == 0:
                ctx = MessageContext(name, transport, a, b, pa, pb, ts)
            else:
                ctx = MessageContext(name, transport, b, a, pb, pa, ts)
        self._contexts[key] = ctx
        return ctx

    def _dissect(self, app: int, message: bytes, ctx: MessageContext) -> list[Observation]:
        spec = self.registry.spec_of(app)
        if spec is None or spec.dissector is None:
            return []
        try:
            return list(islice(spec.dissector(message, ctx), MAX_OBSERVATIONS_PER_MESSAGE))
        except Exception as exc:  # a dissector bug must not stop the ingest
            if self.strict:
                raise DissectorError(
                    f"{spec.name} dissector failed on a {len(message)}-byte message "
                    f"{ctx.src}:{ctx.sport} -> {ctx.dst}:{ctx.dport}: {exc!r}"
                ) from exc
            return [
                Malformed(ctx.src, ctx.dst, spec.name, f"dissector error: {exc!r}", message[:256])
            ]

    def finish(
        self,
        name: str,
        content_hash: str,
        size: int,
        file_format: str,
        linktypes: list[int],
        problems: list[Problem],
    ) -> CaptureFacts:
        """Everything decoded, as the store wants it."""
        counts, first_ns, last_ns = self.walker.counters()
        counters = {c.name.lower(): counts[c.value] for c in Counter}
        facts = CaptureFacts(
            name=name,
            content_hash=content_hash,
            size=size,
            file_format=file_format,
            linktypes=linktypes,
            counters=counters,
            first_ns=first_ns,
            last_ns=last_ns,
            conversations=np.frombuffer(self.walker.conversations(), dtype=CONVERSATION),
            bindings=np.frombuffer(self.walker.bindings(), dtype=BINDING),
            stations=np.frombuffer(self.walker.stations(), dtype=STATION),
            app_names={i: s.name for i, s in enumerate(self.registry.specs, start=1)},
            problems=problems,
        )
        groups = np.frombuffer(self.walker.groups(), dtype=GROUP)
        for index, observations in self._by_group.items():
            row = groups[index]
            count, first, last = int(row["count"]), int(row["first_ns"]), int(row["last_ns"])
            for obs in observations:
                _aggregate(facts, obs, count, first, last)
        for obs, ts in self._single:
            _aggregate(facts, obs, 1, ts, ts)
        return facts


def _aggregate(facts: CaptureFacts, obs: Observation, count: int, first: int, last: int) -> None:
    if isinstance(obs, Operation):
        key = (
            obs.src,
            obs.dst,
            obs.protocol,
            obs.operation,
            obs.code,
            obs.code_name,
            obs.exception,
        )
        _count(facts.operations, key, count, first, last)
    elif isinstance(obs, Identity):
        for attribute, value in obs.attributes:
            _count(
                facts.identities, (obs.address, obs.protocol, attribute, value), count, first, last
            )
    elif isinstance(obs, ProtocolRole):
        _count(facts.roles, (obs.address, obs.protocol, obs.role), count, first, last)
    else:
        _count(
            facts.malformed,
            (obs.src, obs.dst, obs.protocol, obs.reason),
            count,
            first,
            last,
            obs.raw,
        )


def _count(
    table: dict[K, Counted], key: K, count: int, first: int, last: int, raw: bytes = b""
) -> None:
    entry = table.get(key)
    if entry is None:
        table[key] = Counted(count, first, last, raw)
    else:
        entry.add(count, first, last)
