"""Protocols recognised by port or ethertype only, for conversation labels and
client/server roles; each gets its own module when a dissector is written.

Ports are the IANA registrations or the vendors' documented defaults.
"""

from __future__ import annotations

from typing import Final

from otseam.protocols.registry import ProtocolSpec

__all__ = ["PROTOCOLS"]


def _p(
    name: str,
    title: str,
    tcp: tuple[int, ...] = (),
    udp: tuple[int, ...] = (),
    ethertypes: tuple[int, ...] = (),
) -> ProtocolSpec:
    return ProtocolSpec(name=name, title=title, tcp_ports=tcp, udp_ports=udp, ethertypes=ethertypes)


PROTOCOLS: Final = (
    # industrial
    _p("cip-io", "CIP class 0/1 I/O", udp=(2222,)),
    _p("goose", "IEC 61850 GOOSE", ethertypes=(0x88B8,)),
    _p("sv", "IEC 61850 Sampled Values", ethertypes=(0x88BA,)),
    _p("ethercat", "EtherCAT", udp=(34980,), ethertypes=(0x88A4,)),
    _p("powerlink", "Ethernet POWERLINK", ethertypes=(0x88AB,)),
    _p("fins", "Omron FINS", tcp=(9600,), udp=(9600,)),
    _p("melsec", "MELSEC (SLMP / MC protocol)", tcp=(5007, 5002), udp=(5006, 5001)),
    _p("ads", "Beckhoff ADS/AMS", tcp=(48898,), udp=(48899,)),
    _p("fox", "Niagara Fox", tcp=(1911, 4911)),
    _p("hart-ip", "HART-IP", tcp=(5094,), udp=(5094,)),
    _p("c37.118", "IEEE C37.118 synchrophasor", tcp=(4712,), udp=(4713,)),
    _p("codesys", "CODESYS runtime", tcp=(2455, 1217, 11740)),
    _p("mqtt", "MQTT", tcp=(1883, 8883)),
    # network and IT
    _p("netbios-dgm", "NetBIOS datagram", udp=(138,)),
    _p("dhcpv6", "DHCPv6", udp=(546, 547)),
    _p("ntp", "NTP", udp=(123,)),
    _p("syslog", "syslog", udp=(514,)),
    _p("ssdp", "SSDP", udp=(1900,)),
    _p("msrpc", "Microsoft RPC", tcp=(135,)),
    _p("ldap", "LDAP", tcp=(389, 636), udp=(389,)),
    _p("kerberos", "Kerberos", tcp=(88,), udp=(88,)),
    _p("telnet", "Telnet", tcp=(23,)),
    _p("ftp", "FTP", tcp=(21,)),
    _p("tftp", "TFTP", udp=(69,)),
    _p("smtp", "SMTP", tcp=(25, 587)),
    _p("anydesk", "AnyDesk", tcp=(7070,)),
    _p("ike", "IKE / IPsec NAT-T", udp=(500, 4500)),
    _p("openvpn", "OpenVPN", tcp=(1194,), udp=(1194,)),
    _p("wireguard", "WireGuard", udp=(51820,)),
    _p("mssql", "Microsoft SQL Server", tcp=(1433,)),
    _p("mysql", "MySQL", tcp=(3306,)),
    _p("postgresql", "PostgreSQL", tcp=(5432,)),
)
