"""The lab's own check: does a capture show what its truth file says?

Independent of otseam's analysis (tshark dissects, a small pcap reader finds
text). Each problem is one line naming the asset, conversation or operation.
What is checked:

- the file is a classic pcap with Ethernet frames;
- every address in it is in a zone of the truth (or multicast/broadcast), and
  every sending MAC belongs to an asset interface;
- every asset interface sends frames with its MAC and IP;
- every conversation has a TCP SYN answered by a SYN-ACK (or a UDP datagram
  answered by one back);
- every crossing is routed: sent to the router's MAC on the source segment
  and, when that segment is tapped too, from the router's MAC on the other;
- every ICS operation appears as a frame that tshark dissects as that operation;
- the identity strings each device sends are in its traffic;
- the expected findings have their evidence: each scan probe, each
  dual-homed interface announcing the host's name.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from otseam.lab.errors import CheckError
from otseam.lab.frames import Frame, frame_table, matching_frames, payload_by_sender

__all__ = ["OPERATION_FILTERS", "check_capture"]

Json = dict[str, Any]

OPERATION_FILTERS: dict[tuple[str, str], str] = {
    ("modbus", "write"): "modbus.func_code in {5 6 15 16}",
    ("modbus", "read_identity"): "modbus.func_code == 43 && modbus.mei == 14",
    ("enip", "read_identity"): "enip.command == 0x0063",
    ("bacnet", "read_identity"): "bacapp.unconfirmed_service == 8",
    ("s7comm", "read_identity"): "s7comm.data.userdata.szl_id",
    ("s7comm", "program_download"): "s7comm.param.func == 0x1a",
    ("s7comm", "plc_stop"): "s7comm.param.func == 0x29",
    ("s7comm", "plc_start"): "s7comm.param.func == 0x28",
    ("iec104", "control"): "iec60870_asdu.typeid == 45",
    ("opcua", "write"): "opcua.servicenodeid.numeric == 673",
}


def check_capture(pcap: Path, truth_path: Path) -> list[str]:
    """Every disagreement between ``pcap`` and the truth file; empty when they agree."""
    try:
        truth: Json = json.loads(truth_path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckError(f"{truth_path}: cannot read the truth file: {exc}") from exc
    sent = payload_by_sender(pcap)  # also checks classic pcap + Ethernet
    frames = frame_table(pcap)
    assets = {asset["name"]: asset for asset in truth["assets"]}
    problems = _addresses(truth, frames)
    problems += _assets(truth, frames, sent)
    problems += _conversations(truth, frames)
    problems += _crossings(truth, frames, assets)
    problems += _operations(truth, pcap, assets)
    problems += _findings(truth, frames, sent, assets)
    return problems


def _addresses(truth: Json, frames: list[Frame]) -> list[str]:
    networks = [ipaddress.ip_network(c) for zone in truth["zones"] for c in zone["cidrs"]]
    macs = {i["mac"] for asset in truth["assets"] for i in asset["interfaces"]}
    strays: dict[str, int] = {}
    unknown: dict[str, int] = {}
    for frame in frames:
        for text in (frame.ip_src, frame.ip_dst):
            if text and not _inside(ipaddress.ip_address(text), networks):
                strays[text] = strays.get(text, 0) + 1
        if frame.eth_src not in macs:
            unknown[frame.eth_src] = unknown.get(frame.eth_src, 0) + 1
    return [
        *(f"sender MAC {mac} ({n} frames) is no asset's" for mac, n in sorted(unknown.items())),
        *(f"address {ip} ({n} frames) is outside every zone" for ip, n in sorted(strays.items())),
    ]


def _inside(address: ipaddress.IPv4Address | ipaddress.IPv6Address,
            networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:  # fmt: skip
    if address.is_multicast or str(address) == "255.255.255.255":
        return True
    return any(address in net or address == net.broadcast_address for net in networks)


def _assets(truth: Json, frames: list[Frame], sent: dict[str, bytes]) -> list[str]:
    seen = {(f.eth_src, f.ip_src or f.arp_ip) for f in frames}
    problems = []
    for asset in truth["assets"]:
        for nic in asset["interfaces"]:
            if (nic["mac"], nic["ip"]) not in seen:
                problems.append(
                    f"asset {asset['name']}: no frame from MAC {nic['mac']} with IP {nic['ip']}"
                )
        blob = b"".join(sent.get(ip, b"") for ip in asset["ips"])
        for field, value in asset.get("identity_on_wire", {}).items():
            if value and value.encode() not in blob:
                problems.append(
                    f"asset {asset['name']}: its {field} {value!r} is not in its traffic"
                )
    return problems


def _opened(frames: list[Frame], conv: Json) -> bool:
    src, dst, port = conv["src_ip"], conv["dst_ip"], conv["dst_port"]
    if conv["transport"] == "tcp":
        syn = any(f.syn and not f.ack and (f.ip_src, f.ip_dst, f.tcp_dport) == (src, dst, port)
                  for f in frames)  # fmt: skip
        syn_ack = any(f.syn and f.ack and (f.ip_src, f.ip_dst) == (dst, src) for f in frames)
        return syn and syn_ack
    request = any((f.ip_src, f.ip_dst, f.udp_dport) == (src, dst, port) for f in frames)
    reply = any((f.ip_src, f.ip_dst) == (dst, src) and f.udp_dport is not None for f in frames)
    return request and reply


def _conversations(truth: Json, frames: list[Frame]) -> list[str]:
    return [
        f"conversation {c['src']} ({c['src_ip']}) -> {c['dst']} ({c['dst_ip']}) "
        f"{c['transport']}/{c['dst_port']} {c['app_protocol']}: not opened and answered"
        for c in truth["conversations"]
        if not _opened(frames, c)
    ]


def _crossings(truth: Json, frames: list[Frame], assets: dict[str, Json]) -> list[str]:
    routers = [a for a in assets.values() if a["role"] == "network_device"]
    tapped = {zone for tap in truth["capture"].get("taps", []) for zone in tap["zones"]}
    problems = []
    for c in truth["crossings"]:
        key = (c["src_ip"], c["dst_ip"])
        for zone, direction in ((c["src_zone"], "to"), (c["dst_zone"], "from")):
            if zone not in tapped:
                continue
            macs = {n["mac"] for r in routers for n in r["interfaces"] if n["zone"] == zone}
            routed = any(
                (f.ip_src, f.ip_dst) == key
                and (f.eth_dst if direction == "to" else f.eth_src) in macs
                for f in frames
            )
            if not routed:
                problems.append(
                    f"crossing {c['src']} -> {c['dst']} {c['transport']}/{c['dst_port']}: "
                    f"no frame {direction} the router in zone {zone}"
                )
    return problems


def _operations(truth: Json, pcap: Path, assets: dict[str, Json]) -> list[str]:
    problems = []
    cache: dict[str, list[tuple[str, str]]] = {}
    for op in truth["operations"]:
        display_filter = OPERATION_FILTERS.get((op["protocol"], op["operation"]))
        if display_filter is None:
            problems.append(f"operation {op['operation']} over {op['protocol']}: no check known")
            continue
        detail = op.get("detail", "")
        if op["protocol"] == "modbus" and detail.startswith("FC "):
            display_filter = f"modbus.func_code == {detail.split()[1]}"
        pairs = cache.setdefault(display_filter, matching_frames(pcap, display_filter))
        src_ips, dst_ips = set(assets[op["src"]]["ips"]), set(assets[op["dst"]]["ips"])
        if not any(src in src_ips and dst in dst_ips for src, dst in pairs):
            problems.append(
                f"operation {op['operation']} ({detail or op['protocol']}) by {op['src']} "
                f"on {op['dst']}: no frame matches `{display_filter}`"
            )
    return problems


def _findings(truth: Json, frames: list[Frame], sent: dict[str, bytes],
              assets: dict[str, Json]) -> list[str]:  # fmt: skip
    problems = []
    probes = {(f.ip_src, f.ip_dst, f.tcp_dport) for f in frames if f.syn and not f.ack}
    for finding in truth["expected_findings"]:
        subject = finding["subject"]
        if finding["kind"] == "scan":
            src = assets[subject]["ips"][0]
            for target in finding["targets"]:
                dst = assets[target]["ips"][0]
                missing = [p for p in finding["ports"] if (src, dst, p) not in probes]
                if missing:
                    problems.append(f"scan by {subject}: no SYN to {target} on ports {missing}")
        elif finding["kind"] == "dual_homed":
            name = (assets[subject].get("hostname") or subject).encode()
            for ip in finding["ips"]:
                if name not in sent.get(ip, b""):
                    problems.append(f"dual-homed {subject}: {ip} never sends its name {name!r}")
    return problems
