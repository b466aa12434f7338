"""tshark's printed conversation tables next to otseam's conversations.

tshark prints byte counts rounded ("12 kB"), so both sides are brought to
what tshark prints: frames exact, bytes through ``tshark.format_size``.
tshark lists one row per conversation it tracks; a key maps to all of them
(several when tshark splits one 5-tuple: a reused TCP port pair, or a
dissector's own UDP conversation tracking). ``merged`` sums such rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tests.oracle.model import ConversationKey, Endpoint, Traffic, canonical_ip, conversation_key
from tests.oracle.tshark import ConversationRow, format_size

__all__ = ["Shown", "merged", "otseam_shown", "tshark_shown"]

Shown = tuple[int, int, str, str]  # frames a->b, frames b->a, bytes a->b, bytes b->a


def tshark_shown(
    rows: Iterable[ConversationRow], transport: str
) -> dict[ConversationKey, list[Shown]]:
    """tshark's rows by the oracle's key, turned to the key's direction.

    ``transport`` "ip" reads addresses; "tcp" and "udp" read "address:port"."""
    table: dict[ConversationKey, list[Shown]] = {}
    for row in rows:
        a, b = _endpoint(row.a, transport), _endpoint(row.b, transport)
        key, forward = conversation_key(transport, a, b)
        shown = (row.frames_ab, row.frames_ba, row.bytes_ab, row.bytes_ba)
        if not forward:
            shown = (row.frames_ba, row.frames_ab, row.bytes_ba, row.bytes_ab)
        table.setdefault(key, []).append(shown)
    return table


def merged(table: Mapping[ConversationKey, list[Shown]]) -> dict[ConversationKey, Shown]:
    """One row per key: frames summed, bytes summed where tshark printed them
    exactly (below 10 kB). Rounded byte counts of several rows cannot be
    summed; they are joined with "+", which no otseam row will match."""
    return {key: _sum(rows) for key, rows in table.items()}


def _sum(rows: list[Shown]) -> Shown:
    if len(rows) == 1:
        return rows[0]
    return (
        sum(r[0] for r in rows),
        sum(r[1] for r in rows),
        _sum_bytes([r[2] for r in rows]),
        _sum_bytes([r[3] for r in rows]),
    )


def _sum_bytes(texts: list[str]) -> str:
    if all(t.endswith(" bytes") for t in texts):
        return format_size(sum(int(t.split()[0]) for t in texts))
    return "+".join(texts)


def _endpoint(text: str, transport: str) -> Endpoint:
    if transport == "ip":
        return Endpoint(canonical_ip(text), 0)
    address, port = text.rsplit(":", 1)
    return Endpoint(canonical_ip(address), int(port))


def otseam_shown(
    table: Mapping[ConversationKey, Traffic], transport: str
) -> dict[ConversationKey, Shown]:
    """otseam's conversations of one transport as tshark would print them."""
    return {
        key: (t.packets_ab, t.packets_ba, format_size(t.bytes_ab), format_size(t.bytes_ba))
        for key, t in table.items()
        if key.transport == transport
    }
