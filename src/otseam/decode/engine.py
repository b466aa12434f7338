"""The frame decoder: the compiled walker plus the dissectors it feeds.

The readers in ``otseam.sources`` push capture bytes through ``walker``; after
each walk the decoder ``collect``s the new application messages (the first of
each message group) while their bytes are still in memory and hands each to
its protocol's dissector. ``finish`` returns the capture's ``CaptureFacts``.

Dissectors run on a context whose addresses are placeholders, so that what
they return is a template shared by every conversation that sends the same
message: a million clients polling the same register cost one dissection,
not a million. Addresses are put in at ``finish``, vectorised over groups.
Stream events (reassembled TCP) are dissected with their real addresses.

A conversation is labelled by its port; where the port's protocol
``carries`` others (``ProtocolSpec.carries``) and a message of the
conversation yields a ``ProtocolRole`` of one of them, ``finish`` relabels
the conversation with it (MMS on S7comm's TCP 102).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from itertools import islice
from typing import Final

import numpy as np

from otseam.decode import _framewalk
from otseam.decode.addresses import ip_text, mac_text
from otseam.decode.anchors import key_masks
from otseam.decode.layout import BINDING, CONVERSATION, EVENT, GROUP, STATION, Counter
from otseam.decode.reassembly import TcpStream
from otseam.decode.runs import runs
from otseam.decode.templates import DST, SRC, Entries, Template, count_once, spread
from otseam.errors import DissectorError
from otseam.model.capture import CaptureFacts
from otseam.model.observations import (
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
    Transport,
)
from otseam.protocols.catalog import REGISTRY
from otseam.protocols.registry import ProtocolSpec, Registry
from otseam.sources.problems import Problem

__all__ = ["FrameDecoder"]

MAX_OBSERVATIONS_PER_MESSAGE: Final = 256
NO_GROUP: Final = 0xFFFFFFFF
NO_TEMPLATE: Final = 0xFFFFFFFF
TEMPLATE_MASK: Final = (1 << 30) - 1  # template ids are packed beside owner and direction
TRANSPORTS: Final[dict[int, Transport]] = {6: "tcp", 17: "udp", 0: "l2"}


class FrameDecoder:
    """Decodes one capture; create a new one per capture."""

    def __init__(
        self, registry: Registry = REGISTRY, strict: bool = False, dissect: bool = True
    ) -> None:
        self.registry = registry
        self.strict = strict
        for spec in registry.specs:  # a new capture: no answer left half-read
            if spec.memory is not None:
                spec.memory.clear()
        self.walker = _framewalk.Walker()
        self.walker.configure(*registry.walker_tables(dissect))
        self.walker.configure_framing(registry.framing_table())
        self._streams: dict[tuple[int, int], TcpStream] = {}
        self._stream_ends: dict[tuple[int, int], tuple[Transport, str, str, int, int]] = {}
        self._entries = Entries()  # the facts rows of each template
        self._template_label: list[int] = []  # app id a template relabels to, 0: none
        self._labels: dict[int, int] = {}  # conversation -> app id it carries
        self._template_ids: dict[Template, int] = {}
        self._by_header: dict[tuple[object, ...], int] = {}
        self._by_content: dict[int, int] = {}  # walker content digest -> template
        self._group_template = array("I")
        self._single: list[tuple[Observation, int]] = []  # stream events, count 1 each
        self._shared: set[int] = set()  # templates that depend on the group key alone
        self._groups = memoryview(b"")  # the walker's message groups, once released

    def collect(self, window: memoryview) -> None:
        """Dissect the messages the last walk found in ``window``."""
        raw = self.walker.take_events()
        if not raw:
            return
        for event in np.frombuffer(raw, dtype=EVENT).tolist():
            (
                ts,
                group,
                offset,
                length,
                seq,
                owner,
                sport,
                dport,
                direction,
                app,
                _f,
                proto,
                follows,
                content,
            ) = event
            if content and (known := self._by_content.get(content)) is not None:
                self._set_template(group, known)  # the same bytes, seen in this batch
                continue
            if follows and self._follow(group, follows - 1):
                continue  # the same key as an earlier group whose result is shared
            spec = self.registry.spec_of(app)
            if spec is None:
                continue
            message = bytes(window[offset : offset + length])
            if group == NO_GROUP:
                self._stream_event(spec, owner, direction, seq, message, ts)
                continue
            transport = TRANSPORTS.get(proto, "tcp")
            ctx = MessageContext(
                spec.name, transport, SRC, DST, sport, dport, ts, owner << 2 | direction
            )
            template, shared, pure = self._template_for(spec, message, ctx)
            if shared:
                # header-determined: later groups with this header skip Python
                self.walker.learn_template(group, template)
                self._shared.add(template)
            if pure and content:
                # message-determined: later groups whose first message has
                # these bytes skip Python
                self._by_content[content] = template
                self.walker.learn_content(app, content, template)
            self._set_template(group, template)

    def _follow(self, group: int, leader: int) -> bool:
        """Give ``group`` its leader's template when that one is shared (the
        walker saw the same key first in ``leader``, in this batch)."""
        known = self._group_template
        template = known[leader] if leader < len(known) else NO_TEMPLATE
        if template == NO_TEMPLATE or template not in self._shared:
            return False
        self._set_template(group, template)
        return True

    def _set_template(self, group: int, template: int) -> None:
        while len(self._group_template) < group:
            self._group_template.append(NO_TEMPLATE)
        if len(self._group_template) == group:
            self._group_template.append(template)
        else:
            self._group_template[group] = template

    def _template_for(
        self, spec: ProtocolSpec, message: bytes, ctx: MessageContext
    ) -> tuple[int, bool, bool]:
        """The template id of a message, dissecting only what is new; whether
        it is header-determined (shareable with groups of the same key) and
        whether it is message-determined (shareable with groups whose first
        message has the same bytes: the dissector's memory was not used)."""
        key = _header_key(spec, message, ctx)
        if key is not None:
            found = self._by_header.get(key)
            if found is not None:
                return found, True, True
        touches = spec.memory.touches if spec.memory is not None else 0
        observations = tuple(self._dissect(spec, message, ctx))
        pure = spec.memory is None or spec.memory.touches == touches
        template = self._template_ids.get(observations)
        if template is None:
            template = self._template_ids[observations] = len(self._template_ids)
            self._entries.add_template(observations)
            if template > TEMPLATE_MASK:
                raise DissectorError("more distinct dissection results than a capture can hold")
            self._template_label.append(self._carried(spec, observations))
        if (
            key is not None
            and pure
            and all(isinstance(o, Operation | ProtocolRole) for o in observations)
        ):
            self._by_header[key] = template  # header-determined: reuse for the same header
            return template, True, pure
        return template, False, pure

    def _stream_event(
        self, spec: ProtocolSpec, owner: int, direction: int, seq: int, message: bytes, ts: int
    ) -> None:
        """A message of a direction that needs reassembly, with real addresses."""
        ctx = self._stream_context(spec, owner, direction, ts)
        src, dst = ctx.src, ctx.dst
        if spec.framing is None:
            pdus = [message]
        else:
            stream = self._streams.get((owner, direction))
            if stream is None:
                stream = self._streams[(owner, direction)] = TcpStream(spec.framing)
            skipped = stream.skipped
            pdus = stream.add(seq, message)
            if stream.skipped > skipped:
                reason = "TCP stream bytes that start no PDU were skipped (lost segment or damage)"
                self._single.append((Malformed(src, dst, spec.name, reason, message[:64]), ts))
        for pdu in pdus:
            observations = self._dissect(spec, pdu, ctx)
            self._single.extend((o, ts) for o in observations)
            carried = self._carried(spec, observations)
            if carried:
                self._labels[owner] = carried

    def _carried(self, spec: ProtocolSpec, observations: Iterable[Observation]) -> int:
        """The app id of a protocol ``spec`` carries that ``observations``
        give a role of (the conversation's label then), else 0."""
        for obs in observations:
            if isinstance(obs, ProtocolRole) and obs.protocol in spec.carries:
                return self.registry.app_id(obs.protocol)
        return 0

    def _stream_context(
        self, spec: ProtocolSpec, owner: int, direction: int, ts: int
    ) -> MessageContext:
        """Who sent a stream event: read from the walker once per direction."""
        ends = self._stream_ends.get((owner, direction))
        if ends is None:
            conv = np.frombuffer(self.walker.conversation(owner), dtype=CONVERSATION)[0]
            family = int(conv["family"])
            a, b = ip_text(family, conv["a"].tobytes()), ip_text(family, conv["b"].tobytes())
            pa, pb = int(conv["port_a"]), int(conv["port_b"])
            transport = TRANSPORTS.get(int(conv["proto"]), "tcp")
            forward = direction == 0
            ends = (transport, *((a, b, pa, pb) if forward else (b, a, pb, pa)))
            self._stream_ends[(owner, direction)] = ends
        transport, src, dst, sport, dport = ends
        return MessageContext(
            spec.name, transport, src, dst, sport, dport, ts, owner << 2 | direction
        )

    def _dissect(
        self, spec: ProtocolSpec, message: bytes, ctx: MessageContext
    ) -> list[Observation]:
        if spec.dissector is None:
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

    def release(self) -> None:
        """Free the walker's tables once they are taken out (``finish`` does,
        as soon as it has): the rest of the work does not need them (for a
        million conversations they are a few hundred MiB). The message
        groups are kept, taken over without a copy, for ``finish`` to add up."""
        self._groups = self.walker.take_groups()
        self.walker.reset()
        self._streams.clear()
        self._by_content.clear()

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
        facts = CaptureFacts(
            name=name,
            content_hash=content_hash,
            size=size,
            file_format=file_format,
            linktypes=linktypes,
            counters={c.name.lower(): counts[c.value] for c in Counter},
            first_ns=first_ns,
            last_ns=last_ns,
            # taken out of the walker, not copied: the largest table at the peak
            conversations=np.frombuffer(self.walker.take_conversations(), dtype=CONVERSATION),
            bindings=np.frombuffer(self.walker.take_bindings(), dtype=BINDING),
            stations=np.frombuffer(self.walker.take_stations(), dtype=STATION),
            app_names={i: s.name for i, s in enumerate(self.registry.specs, start=1)},
            problems=problems,
        )
        self.release()  # all taken out: the tables' memory goes before the spread needs its own
        groups = np.frombuffer(self._groups, dtype=GROUP)
        self._groups = memoryview(b"")
        rows = self._group_rows(groups)
        del groups
        if rows is not None:
            self._apply_templates(facts, *rows)
        for obs, ts in self._single:
            count_once(facts, obs, ts)
        if self._labels:
            owners = np.fromiter(self._labels, dtype=np.int64, count=len(self._labels))
            facts.conversations["app"][owners] = list(self._labels.values())  # writable: taken
        return facts

    def _group_rows(
        self, groups: np.ndarray
    ) -> (
        tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]] | None
    ):
        """Every (owner, direction, template) that groups with a template
        make, with their (count, first, last) added up; None if none."""
        templates = groups["template"].copy()  # shared in C, without a Python event
        known = np.frombuffer(self._group_template, dtype=np.uint32)[: len(groups)]
        from_python = known != NO_TEMPLATE
        templates[: len(known)][from_python] = known[from_python]
        keep = np.flatnonzero(templates != NO_TEMPLATE).astype(np.uint32)  # as the walker counts
        if not len(keep):
            return None
        # One row per (owner, direction, template): groups differing only in
        # digest but dissected alike are added up first. Columns are read
        # through indexes, never as a copy of whole 48-byte groups.
        packed = groups["owner"][keep].astype(np.uint64)  # built in place
        packed <<= np.uint64(32)
        packed |= groups["dir"][keep].astype(np.uint64) << np.uint64(30)
        packed |= templates[keep]
        del templates
        order, starts = runs(packed, stable=True)  # near sorted already
        at = keep[order]  # each sorted row's group
        del keep
        rows = packed[order[starts]]
        del packed, order
        owner = (rows >> np.uint64(32)).astype(np.uint32)  # 32-bit, as in the walker
        direction = ((rows >> np.uint64(30)) & np.uint64(3)).astype(np.uint8)
        tpl = (rows & np.uint64(TEMPLATE_MASK)).astype(np.int32)
        del rows
        counts = (
            np.add.reduceat(groups["count"][at], starts),
            np.minimum.reduceat(groups["first_ns"][at], starts),
            np.maximum.reduceat(groups["last_ns"][at], starts),
        )
        return owner, direction, tpl, counts

    def _apply_templates(
        self,
        facts: CaptureFacts,
        owner: np.ndarray,
        direction: np.ndarray,
        tpl: np.ndarray,
        counts: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Observations of every group: its template with its addresses put in."""
        labels = np.asarray(self._template_label, dtype=np.uint8)[tpl]
        relabel = (labels > 0) & (direction < 2)  # conversations, not layer-2 stations
        self._labels.update(zip(owner[relabel].tolist(), labels[relabel].tolist(), strict=True))
        src, dst, names = self._addresses(facts, owner, direction)
        spread(facts, self._entries, tpl, src, dst, counts, names)

    def _addresses(
        self, facts: CaptureFacts, owners: np.ndarray, dirs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Sender and receiver of each (owner, direction), as indexes into
        the returned address texts."""
        src = np.empty(len(owners), dtype=np.int32)  # ids of up to millions of addresses
        dst = np.empty(len(owners), dtype=np.int32)
        ip = dirs < 2
        a_ids, b_ids, texts = facts.endpoints()
        at = owners[ip]
        forward = dirs[ip] == 0
        src[ip] = np.where(forward, a_ids[at], b_ids[at])
        dst[ip] = np.where(forward, b_ids[at], a_ids[at])
        names: list[str] = texts.tolist()
        if (~ip).any():
            macs, inverse = np.unique(facts.stations["mac"][owners[~ip]], return_inverse=True)
            src[~ip] = len(names) + inverse.ravel()
            dst[~ip] = len(names) + len(macs)
            names = [*names, *(mac_text(m) for m in macs.tolist()), ""]
        return src, dst, names


def _header_key(
    spec: ProtocolSpec, message: bytes, ctx: MessageContext
) -> tuple[object, ...] | None:
    """What a header-determined dissection depends on: the key bytes, the
    length, and which side is on the protocol's registered port. None when
    neither side is (the dissector may then look at the ports themselves)."""
    ports = spec.tcp_ports if ctx.transport == "tcp" else spec.udp_ports
    sport = ctx.sport if ctx.sport in ports else -1
    dport = ctx.dport if ctx.dport in ports else -1
    if sport == dport == -1 and ctx.transport != "l2":
        return None
    if spec.framing is not None and ctx.transport == "tcp":
        # every PDU of the segment, as the walker's group digest does
        headers, pos = [], 0
        while pos < len(message):
            total = spec.framing.pdu_length(message, pos)
            if not total or pos + total > len(message):
                return None
            headers.append((total, _key_bytes(spec, message[pos : pos + total])))
            pos += total
        return (spec.name, ctx.transport, sport, dport, tuple(headers))
    return (spec.name, ctx.transport, sport, dport, len(message), _key_bytes(spec, message))


def _key_bytes(spec: ProtocolSpec, pdu: bytes) -> bytes:
    """The bytes a group is keyed by, masked as the walker masks them
    (``anchors.key_masks``: the spec's masks, or what its anchor decides)."""
    key = bytearray(pdu[spec.key_skip : spec.key_skip + spec.key_len])
    for offset, length in key_masks(spec, pdu):
        start = max(offset - spec.key_skip, 0)
        end = min(offset - spec.key_skip + length, len(key))
        if start < end:
            key[start:end] = bytes(end - start)
    return bytes(key)
