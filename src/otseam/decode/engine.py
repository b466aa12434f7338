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
from bisect import bisect_left
from collections.abc import Iterable
from itertools import islice
from typing import Final

import numpy as np

from otseam.decode import _framewalk
from otseam.decode.addresses import ip_text
from otseam.decode.anchors import key_masks
from otseam.decode.endpoints import RowEndpoints
from otseam.decode.layout import (
    BINDING,
    CONVERSATION,
    CONVERSATION_V4,
    EVENT,
    GROUP_ROW,
    LAYER2,
    MAX_TEMPLATES,
    STATION,
    Counter,
    row_directions,
)
from otseam.decode.reassembly import TcpStream
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
TRANSPORTS: Final[dict[int, Transport]] = {6: "tcp", 17: "udp", 0: "l2"}
# what a dissection whose result the header alone decides may say
HEADER_DETERMINED: Final = (Operation, ProtocolRole)


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
        # spec by the walker's one-byte app id (``Registry.spec_of``), read per event
        self._spec_by_app = [registry.spec_of(app) for app in range(256)]
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
        # the templates Python found for groups, by group (ascending, as the
        # walker numbers groups and reports each once): a few thousand pairs
        # where an array by group would be a million entries
        self._known_groups = array("I")
        self._known_templates = array("I")
        self._single: list[tuple[Observation, int]] = []  # stream events, count 1 each
        self._shared: set[int] = set()  # templates that depend on the group key alone
        self._rows: dict[int, memoryview] = {}  # each template's group rows, once released

    def collect(self, window: memoryview) -> None:
        """Dissect the messages the last walk found in ``window``."""
        raw = self.walker.take_events()
        if not raw:
            return
        by_content = self._by_content
        specs = self._spec_by_app
        for (
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
        ) in np.frombuffer(raw, dtype=EVENT).tolist():
            if content and (known := by_content.get(content)) is not None:
                self._set_template(group, known)  # the same bytes, seen in this batch
                continue
            if follows and self._follow(group, follows - 1):
                continue  # the same key as an earlier group whose result is shared
            spec = specs[app]
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
        at = bisect_left(self._known_groups, leader)
        if at == len(self._known_groups) or self._known_groups[at] != leader:
            return False
        template = self._known_templates[at]
        if template not in self._shared:
            return False
        self._set_template(group, template)
        return True

    def _set_template(self, group: int, template: int) -> None:
        self._known_groups.append(group)
        self._known_templates.append(template)

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
            if template >= MAX_TEMPLATES:
                raise DissectorError("more distinct dissection results than a capture can hold")
            self._template_label.append(self._carried(spec, observations))
        if key is not None and pure and all(isinstance(o, HEADER_DETERMINED) for o in observations):
            self._by_header[key] = template  # header-determined: reuse for the same header
            return template, True, pure
        return template, False, pure

    def _stream_event(
        self, spec: ProtocolSpec, owner: int, direction: int, seq: int, message: bytes, ts: int
    ) -> None:
        """A message of a direction that needs reassembly, with real addresses."""
        if spec.framing is None:
            pdus = [message]
        else:
            stream = self._streams.get((owner, direction))
            if stream is None:
                stream = self._streams[(owner, direction)] = TcpStream(spec.framing)
            skipped = stream.skipped
            pdus = stream.add(seq, message)
            if stream.skipped > skipped:
                ctx = self._stream_context(spec, owner, direction, ts)
                reason = "TCP stream bytes that start no PDU were skipped (lost segment or damage)"
                self._single.append(
                    (Malformed(ctx.src, ctx.dst, spec.name, reason, message[:64]), ts)
                )
            if not pdus:
                return  # most often a segment the stream already had: nothing to say
        ctx = self._stream_context(spec, owner, direction, ts)
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
        groups are kept, added up by (owner, direction, template) in their
        own memory, for ``finish`` to spread: only groups whose template
        observed something (``Entries.of_template``)."""
        observing = bytes(len(made) > 0 for made in self._entries.of_template)
        self._rows = self.walker.take_group_rows(
            self._known_groups, self._known_templates, observing
        )
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
            conversations=_conversations(*self.walker.take_conversations()),
            bindings=np.frombuffer(self.walker.take_bindings(), dtype=BINDING),
            stations=np.frombuffer(self.walker.take_stations(), dtype=STATION),
            app_names={i: s.name for i, s in enumerate(self.registry.specs, start=1)},
            problems=problems,
        )
        self.release()  # all taken out: the tables' memory goes before the spread needs its own
        rows = {t: np.frombuffer(taken, dtype=GROUP_ROW) for t, taken in self._rows.items()}
        self._rows = {}  # the arrays hold the rows now: each goes once spread
        if rows:
            self._apply_templates(facts, rows)
        for obs, ts in self._single:
            count_once(facts, obs, ts)
        if self._labels:
            owners = np.fromiter(self._labels, dtype=np.int64, count=len(self._labels))
            facts.conversations["app"][owners] = list(self._labels.values())  # writable: taken
        return facts

    def _apply_templates(self, facts: CaptureFacts, rows: dict[int, np.ndarray]) -> None:
        """Observations of every group row (``rows``: by template): its
        template with its addresses put in. Takes the rows out of ``rows``."""
        self._relabel(rows)
        endpoints = RowEndpoints(facts, rows.values())
        spread(facts, self._entries, rows, endpoints, endpoints.names)

    def _relabel(self, rows: dict[int, np.ndarray]) -> None:
        """Conversations with rows whose template gives a role of a protocol
        their port's protocol carries are labelled with it; of an owner's
        rows that relabel, the last by (direction, template) stands."""
        owners, keys, labels = [], [], []
        for template, part in rows.items():
            label = self._template_label[template]
            if label:
                conv = part[row_directions(part) != LAYER2]  # conversations, not stations
                owners.append(conv["owner"])
                keys.append(conv["owner"].astype(np.uint64) << np.uint64(32) | conv["dir_template"])
                labels.append(np.full(len(conv), label, dtype=np.uint8))
        if owners:
            order = np.argsort(np.concatenate(keys), kind="stable")
            in_order = (np.concatenate(owners)[order], np.concatenate(labels)[order])
            self._labels.update(zip(*(column.tolist() for column in in_order), strict=True))


def _conversations(taken: memoryview, address_size: int) -> np.ndarray:
    """The walker's conversations as it hands them over: with 4-byte
    addresses when the capture has no IPv6 conversation."""
    return np.frombuffer(taken, dtype=CONVERSATION if address_size == 16 else CONVERSATION_V4)


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
    masks = key_masks(spec, pdu)
    if not masks:
        return bytes(pdu[spec.key_skip : spec.key_skip + spec.key_len])
    key = bytearray(pdu[spec.key_skip : spec.key_skip + spec.key_len])
    for offset, length in masks:
        start = max(offset - spec.key_skip, 0)
        end = min(offset - spec.key_skip + length, len(key))
        if start < end:
            key[start:end] = bytes(end - start)
    return bytes(key)
