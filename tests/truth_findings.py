"""Comparing otseam's findings with a lab truth file's ``expected_findings``.

Each finding is reduced to what it is about, in the truth file's terms
(addresses, ports, channel names), so that a test can say "exactly these".
"""

from __future__ import annotations

from typing import Any

from otseam.model.convergence import Convergence, Finding

Json = dict[str, Any]
Signature = tuple[Any, ...]


def _port(service: str) -> int:
    return int(service.rsplit("/", 1)[1])


def _found(finding: Finding) -> Signature:
    """What a finding is about, in the truth file's terms."""
    ev = finding.evidence
    first = ev.get("conversations", [{}])[0] if ev.get("conversations") else {}
    if finding.kind in ("it_ot_crossing", "dmz_bypass", "unapproved_conduit", "remote_access"):
        return (finding.kind, first["client"], first["server"], _port(first["service"]))
    if finding.kind == "scan":
        return (finding.kind, first["client"])
    if finding.kind == "dual_homed":
        return (finding.kind, frozenset(ev["ips"]))
    if finding.kind == "ics_operation_from_it":
        return (finding.kind, ev["src"], ev["dst"], ev["operation"])
    if finding.kind == "external_channel":
        return (finding.kind, finding.channel, ev["status"])
    if finding.kind == "unowned":
        return (finding.kind, ev["subject_kind"], ev.get("subject"))
    return (finding.kind, finding.title)


def _expected(item: Json) -> Signature:
    kind = item["kind"]
    if kind in ("it_ot_crossing", "dmz_bypass", "unapproved_conduit", "remote_access"):
        return (kind, item["src_ip"], item["dst_ip"], item["dst_port"])
    if kind == "scan":
        return (kind, item["src_ip"])
    if kind == "dual_homed":
        return (kind, frozenset(item["ips"]))
    if kind == "ics_operation_from_it":
        return (kind, item["src_ip"], item["dst_ip"], item["operation"])
    if kind == "external_channel":
        return (kind, item["subject"], item["status"])
    if kind == "unowned":
        return (kind, item["subject_kind"], item["subject"])
    raise AssertionError(f"truth lists a finding kind otseam does not know: {kind}")


def finding_signatures(conv: Convergence, truth: Json) -> tuple[list[Signature], list[Signature]]:
    """(what otseam found, what the truth expects), sorted alike."""
    found = sorted(map(_found, conv.findings), key=repr)
    expected = sorted(map(_expected, truth["expected_findings"]), key=repr)
    return found, expected
