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
    _p("iso-tsap", "ISO transport on TCP 102 (S7comm or MMS)", tcp=(102,)),
    _p("dnp3", "DNP3", tcp=(20000,), udp=(20000,)),
    _p("bacnet", "BACnet/IP", udp=(47808,)),
    _p("opcua", "OPC UA binary", tcp=(4840,)),
    _p("iec104", "IEC 60870-5-104", tcp=(2404,)),
    _p("cip-io", "CIP class 0/1 I/O", udp=(2222,)),
    _p("profinet", "PROFINET", udp=(34964,), ethertypes=(0x8892,)),
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
    _p("lldp", "LLDP", ethertypes=(0x88CC,)),
    _p("dns", "DNS", tcp=(53,), udp=(53,)),
    _p("mdns", "mDNS", udp=(5353,)),
    _p("llmnr", "LLMNR", udp=(5355,)),
    _p("nbns", "NetBIOS name service", udp=(137,)),
    _p("netbios-dgm", "NetBIOS datagram", udp=(138,)),
    _p("dhcp", "DHCP", udp=(67, 68)),
    _p("dhcpv6", "DHCPv6", udp=(546, 547)),
    _p("ntp", "NTP", udp=(123,)),
    _p("snmp", "SNMP", udp=(161, 162)),
    _p("syslog", "syslog", udp=(514,)),
    _p("ssdp", "SSDP", udp=(1900,)),
    _p("http", "HTTP", tcp=(80, 8080, 8000)),
    _p("https", "HTTPS / TLS", tcp=(443, 8443)),
    _p("smb", "SMB", tcp=(445, 139)),
    _p("msrpc", "Microsoft RPC", tcp=(135,)),
    _p("ldap", "LDAP", tcp=(389, 636), udp=(389,)),
    _p("kerberos", "Kerberos", tcp=(88,), udp=(88,)),
    _p("ssh", "SSH", tcp=(22,)),
    _p("telnet", "Telnet", tcp=(23,)),
    _p("ftp", "FTP", tcp=(21,)),
    _p("tftp", "TFTP", udp=(69,)),
    _p("smtp", "SMTP", tcp=(25, 587)),
    _p("rdp", "Remote Desktop (RDP)", tcp=(3389,), udp=(3389,)),
    _p("vnc", "VNC / RFB", tcp=(5900, 5901)),
    _p("teamviewer", "TeamViewer", tcp=(5938,), udp=(5938,)),
    _p("anydesk", "AnyDesk", tcp=(7070,)),
    _p("ike", "IKE / IPsec NAT-T", udp=(500, 4500)),
    _p("openvpn", "OpenVPN", tcp=(1194,), udp=(1194,)),
    _p("wireguard", "WireGuard", udp=(51820,)),
    _p("mssql", "Microsoft SQL Server", tcp=(1433,)),
    _p("mysql", "MySQL", tcp=(3306,)),
    _p("postgresql", "PostgreSQL", tcp=(5432,)),
)
