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
from typing import Any, Final, TypeVar

import numpy as np

from otseam.decode import _framewalk
from otseam.decode.addresses import address_text, ip_text, macs_text
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
from otseam.protocols.registry import ProtocolSpec, Registry
from otseam.sources.problems import Problem

__all__ = ["FrameDecoder"]

MAX_OBSERVATIONS_PER_MESSAGE: Final = 256
NO_GROUP: Final = 0xFFFFFFFF
NO_TEMPLATE: Final = 0xFFFFFFFF
SRC: Final = "\x00src"  # placeholders a template's addresses are written with
DST: Final = "\x00dst"
TRANSPORTS: Final[dict[int, Transport]] = {6: "tcp", 17: "udp", 0: "l2"}
K = TypeVar("K")
Template = tuple[Observation, ...]


class FrameDecoder:
    """Decodes one capture; create a new one per capture."""

    def __init__(
        self, registry: Registry = REGISTRY, strict: bool = False, dissect: bool = True
    ) -> None:
        self.registry = registry
        self.strict = strict
        for spec in registry.specs:  # a new capture: no answer left half-read
            if spec.reset is not None:
                spec.reset()
        self.walker = _framewalk.Walker()
        self.walker.configure(*registry.walker_tables(dissect))
        self.walker.configure_framing(registry.framing_table())
        self._streams: dict[tuple[int, int], TcpStream] = {}
        self._stream_ends: dict[tuple[int, int], tuple[Transport, str, str, int, int]] = {}
        self._templates: list[Template] = []
        self._template_label: list[int] = []  # app id a template relabels to, 0: none
        self._labels: dict[int, int] = {}  # conversation -> app id it carries
        self._template_ids: dict[Template, int] = {}
        self._by_header: dict[tuple[object, ...], int] = {}
        self._group_template = array("I")
        self._single: list[tuple[Observation, int]] = []  # stream events, count 1 each
        self._shared: set[int] = set()  # templates that depend on the group key alone

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
            ) = event
            if follows and self._follow(group, follows - 1):
                continue  # the same key as an earlier group whose result is shared
            spec = self.registry.spec_of(app)
            if spec is None:
                continue
            message = bytes(window[offset : offset + length])
            if group == NO_GROUP:
                self._stream_event(spec, owner, direction, seq, message, ts)
                continue
            ctx = MessageContext(
                spec.name, TRANSPORTS.get(proto, "tcp"), SRC, DST, sport, dport, ts
            )
            template, shared = self._template_for(spec, message, ctx)
            if shared:
                # header-determined: later groups with this header skip Python
                self.walker.learn_template(group, template)
                self._shared.add(template)
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
    ) -> tuple[int, bool]:
        """The template id of a message, dissecting only what is new, and
        whether it is header-determined (shareable with other groups)."""
        key = _header_key(spec, message, ctx)
        if key is not None:
            found = self._by_header.get(key)
            if found is not None:
                return found, True
        observations = tuple(self._dissect(spec, message, ctx))
        template = self._template_ids.get(observations)
        if template is None:
            template = self._template_ids[observations] = len(self._templates)
            self._templates.append(observations)
            self._template_label.append(self._carried(spec, observations))
        if key is not None and all(isinstance(o, Operation | ProtocolRole) for o in observations):
            self._by_header[key] = template  # header-determined: reuse for the same header
            return template, True
        return template, False

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
        return MessageContext(spec.name, transport, src, dst, sport, dport, ts)

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
            conversations=np.frombuffer(self.walker.conversations(), dtype=CONVERSATION),
            bindings=np.frombuffer(self.walker.bindings(), dtype=BINDING),
            stations=np.frombuffer(self.walker.stations(), dtype=STATION),
            app_names={i: s.name for i, s in enumerate(self.registry.specs, start=1)},
            problems=problems,
        )
        self._apply_templates(facts)
        for obs, ts in self._single:
            _aggregate(facts, obs, 1, ts, ts)
        if self._labels:
            conversations = facts.conversations.copy()  # the walker's buffer is read-only
            owners = np.fromiter(self._labels, dtype=np.int64, count=len(self._labels))
            conversations["app"][owners] = list(self._labels.values())
            facts.conversations = conversations
        return facts

    def _apply_templates(self, facts: CaptureFacts) -> None:
        """Observations of every group: its template with its addresses put in."""
        groups = np.frombuffer(self.walker.groups(), dtype=GROUP)
        templates = groups["template"].copy()  # shared in C, without a Python event
        known = np.frombuffer(self._group_template, dtype=np.uint32)[: len(groups)]
        from_python = known != NO_TEMPLATE
        templates[: len(known)][from_python] = known[from_python]
        keep = templates != NO_TEMPLATE
        groups, templates = groups[keep], templates[keep]
        if not len(groups):
            return
        # One row per (owner, direction, template): groups differing only in
        # digest but dissected alike are added up first.
        keys = np.empty(len(groups), dtype=[("owner", "<u4"), ("dir", "u1"), ("tpl", "<u4")])
        keys["owner"], keys["dir"], keys["tpl"] = groups["owner"], groups["dir"], templates
        rows, inverse = np.unique(keys, return_inverse=True)
        inverse = inverse.ravel()
        count = np.zeros(len(rows), dtype=np.uint64)
        np.add.at(count, inverse, groups["count"])
        first = np.full(len(rows), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inverse, groups["first_ns"])
        last = np.full(len(rows), np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last, inverse, groups["last_ns"])
        labels = np.asarray(self._template_label, dtype=np.uint8)[rows["tpl"]]
        relabel = (labels > 0) & (rows["dir"] < 2)  # conversations, not layer-2 stations
        owners = rows["owner"][relabel].tolist()
        self._labels.update(zip(owners, labels[relabel].tolist(), strict=True))
        src, dst = self._addresses(facts, rows["owner"], rows["dir"])
        compiled = [_compile(facts, template) for template in self._templates]
        for tpl, s, d, n, f, la in zip(
            rows["tpl"].tolist(),
            src,
            dst,
            count.tolist(),
            first.tolist(),
            last.tolist(),
            strict=True,
        ):
            for table, key, at_src, at_dst, raw in compiled[tpl]:
                if at_src or at_dst:
                    filled = list(key)
                    for i in at_src:
                        filled[i] = s
                    for i in at_dst:
                        filled[i] = d
                    key = tuple(filled)
                entry = table.get(key)
                if entry is None:
                    table[key] = Counted(n, f, la, raw)
                else:
                    entry.add(n, f, la)

    def _addresses(
        self, facts: CaptureFacts, owners: np.ndarray, dirs: np.ndarray
    ) -> tuple[list[str], list[str]]:
        """Sender and receiver text of each (owner, direction)."""
        src = np.empty(len(owners), dtype=object)
        dst = np.empty(len(owners), dtype=object)
        ip = dirs < 2
        if ip.any():
            conv = facts.conversations[owners[ip]]
            a = address_text(conv["family"], conv["a"])
            b = address_text(conv["family"], conv["b"])
            forward = dirs[ip] == 0
            src[ip] = np.where(forward, a, b)
            dst[ip] = np.where(forward, b, a)
        if (~ip).any():
            src[~ip] = macs_text(facts.stations[owners[~ip]]["mac"])
            dst[~ip] = ""
        return src.tolist(), dst.tolist()


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
    """The bytes a group is keyed by, masked as the walker masks them."""
    key = bytearray(pdu[spec.key_skip : spec.key_skip + spec.key_len])
    for offset, length in spec.key_masks:
        start = max(offset - spec.key_skip, 0)
        end = min(offset - spec.key_skip + length, len(key))
        if start < end:
            key[start:end] = bytes(end - start)
    return bytes(key)


Compiled = list[tuple[dict[Any, Counted], tuple[Any, ...], tuple[int, ...], tuple[int, ...], bytes]]


def _rows(
    facts: CaptureFacts, obs: Observation
) -> list[tuple[dict[Any, Counted], tuple[Any, ...], bytes]]:
    """The facts table, key(s) and raw bytes an observation is counted under."""
    if isinstance(obs, Operation):
        key = (obs.src, obs.dst, obs.protocol, obs.operation, obs.code, obs.code_name,
               obs.exception)  # fmt: skip
        return [(facts.operations, key, b"")]
    if isinstance(obs, Identity):
        return [
            (facts.identities, (obs.address, obs.protocol, k, v), b"") for k, v in obs.attributes
        ]
    if isinstance(obs, ProtocolRole):
        return [(facts.roles, (obs.address, obs.protocol, obs.role), b"")]
    return [(facts.malformed, (obs.src, obs.dst, obs.protocol, obs.reason), obs.raw)]


def _compile(facts: CaptureFacts, template: Template) -> Compiled:
    """A template as (table, key, placeholder positions, raw) entries, so that
    applying it to a group is a few list stores and one dict update."""
    return [
        (table, key, _positions(key, SRC), _positions(key, DST), raw)
        for obs in template
        for table, key, raw in _rows(facts, obs)
    ]


def _positions(key: tuple[Any, ...], placeholder: str) -> tuple[int, ...]:
    return tuple(i for i, v in enumerate(key) if v == placeholder)


def _aggregate(facts: CaptureFacts, obs: Observation, count: int, first: int, last: int) -> None:
    for table, key, raw in _rows(facts, obs):
        _count(table, key, count, first, last, raw)


def _count(
    table: dict[K, Counted], key: K, count: int, first: int, last: int, raw: bytes = b""
) -> None:
    entry = table.get(key)
    if entry is None:
        table[key] = Counted(count, first, last, raw)
    else:
        entry.add(count, first, last)
