"""Program recipes shared by plant definitions: one function per device stack."""

from __future__ import annotations

from otseam.lab.model import Flow, Host, Identity, Operation, Program

__all__ = [
    "dns_lookups",
    "dnsmasq",
    "enip_adapter",
    "enip_identify",
    "enip_poll",
    "http_get",
    "http_server",
    "mdns_announce",
    "modbus_identify",
    "modbus_plc",
    "modbus_poll",
    "modbus_write",
    "port_scan",
    "remote_desktop_agent",
    "remote_desktop_relay",
    "ssh_server",
    "ssh_session",
]


def modbus_plc(ip: str, identity: Identity, product_code: str, product_name: str) -> Program:
    return Program(
        label="Modbus/TCP server",
        stack="pymodbus",
        module="modbus_plc",
        requires=("pymodbus",),
        args=(
            "--bind", ip, "--vendor", identity.vendor or "", "--product-code", product_code,
            "--revision", identity.firmware or "", "--model", identity.model or "",
            "--product-name", product_name, "--application", identity.hostname or "",
        ),
    )  # fmt: skip


def modbus_poll(plc: Host, interval: float = 1.0) -> Program:
    ip = plc.ips[0]
    return Program(
        label=f"Modbus poll of {plc.name}",
        stack="pymodbus",
        module="modbus_client",
        requires=("pymodbus",),
        args=("--host", ip, "--mode", "poll", "--interval", str(interval)),
        flows=(Flow(plc.name, ip, 502, "tcp", "modbus"),),
    )


def modbus_write(plc: Host, register: int, value: int) -> Program:
    ip = plc.ips[0]
    return Program(
        label=f"Modbus write to {plc.name}",
        stack="pymodbus",
        module="modbus_client",
        requires=("pymodbus",),
        args=("--host", ip, "--mode", "write", "--register", str(register), "--value", str(value)),
        flows=(Flow(plc.name, ip, 502, "tcp", "modbus"),),
        operations=(
            Operation(plc.name, "modbus", "write", f"FC 6 register {register} := {value}"),
            Operation(plc.name, "modbus", "write", "FC 5 coil 3 := ON"),
        ),
    )


def modbus_identify(plc: Host) -> Program:
    ip = plc.ips[0]
    return Program(
        label=f"Modbus device identification of {plc.name}",
        stack="pymodbus",
        module="modbus_client",
        requires=("pymodbus",),
        args=("--host", ip, "--mode", "identify"),
        flows=(Flow(plc.name, ip, 502, "tcp", "modbus"),),
        operations=(Operation(plc.name, "modbus", "read_identity", "FC 43 / MEI 14"),),
    )


def enip_adapter(ip: str, vendor_id: int, product_code: int, revision: str, serial: int,
                 product_name: str, device_type: int = 14) -> Program:  # fmt: skip
    return Program(
        label="EtherNet/IP adapter",
        stack="cpppo",
        module="enip_adapter",
        requires=("cpppo",),
        args=(
            "--bind", ip, "--vendor-id", str(vendor_id), "--product-code", str(product_code),
            "--revision", revision, "--serial", hex(serial), "--product-name", product_name,
            "--device-type", str(device_type),
        ),
    )  # fmt: skip


def enip_identify(adapter: Host) -> Program:
    ip = adapter.ips[0]
    return Program(
        label=f"EtherNet/IP List Identity of {adapter.name}",
        stack="cpppo",
        module="enip_client",
        requires=("cpppo",),
        args=("--host", ip, "--mode", "identify"),
        flows=(
            Flow(adapter.name, ip, 44818, "udp", "enip"),
            Flow(adapter.name, ip, 44818, "tcp", "enip"),
        ),
        operations=(Operation(adapter.name, "enip", "read_identity", "List Identity"),),
    )


def enip_poll(adapter: Host, interval: float = 2.0) -> Program:
    ip = adapter.ips[0]
    return Program(
        label=f"CIP tag poll of {adapter.name}",
        stack="cpppo",
        module="enip_client",
        requires=("cpppo",),
        args=("--host", ip, "--mode", "poll", "--interval", str(interval)),
        flows=(Flow(adapter.name, ip, 44818, "tcp", "enip"),),
    )


def http_server(ip: str, ports: tuple[int, ...], product: str, title: str) -> Program:
    port_args = tuple(arg for port in ports for arg in ("--port", str(port)))
    return Program(
        label="web application",
        stack="Python http.server",
        module="http_server",
        args=("--bind", ip, *port_args, "--product", product, "--title", title),
    )


def http_get(server: Host, ip: str, paths: tuple[str, ...], port: int = 80, repeat: int = 1,
             interval: float = 5.0, post: bool = False) -> Program:  # fmt: skip
    urls = tuple(arg for path in paths for arg in ("--url", f"http://{ip}:{port}{path}"))
    return Program(
        label=f"HTTP {'POST' if post else 'GET'} to {server.name}",
        stack="Python urllib",
        module="http_client",
        args=(
            *urls,
            "--repeat",
            str(repeat),
            "--interval",
            str(interval),
            *(("--post",) if post else ()),
        ),
        flows=(Flow(server.name, ip, port, "tcp", "http"),),
    )


def dnsmasq(ip: str, records: dict[str, str], domain: str) -> Program:
    host_records = tuple(f"--host-record={name}.{domain},{addr}" for name, addr in records.items())
    return Program(
        label="DNS server",
        stack="dnsmasq",
        exe="dnsmasq",
        ready_port=53,
        args=(
            "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--bind-interfaces", f"--listen-address={ip}", "--except-interface=lo",
            "--pid-file=", "--log-facility=-", "--user=root", f"--domain={domain}",
            *host_records,
        ),
    )  # fmt: skip


def dns_lookups(server: Host, ip: str, names: tuple[str, ...]) -> Program:
    return Program(
        label=f"DNS lookups at {server.name}",
        stack="dnspython",
        module="dns_client",
        requires=("dns",),
        args=("--server", ip, *(arg for name in names for arg in ("--name", name))),
        flows=(Flow(server.name, ip, 53, "udp", "dns"),),
    )


def ssh_server(ip: str) -> Program:
    return Program(
        label="SSH server",
        stack="OpenSSH sshd",
        module="ssh_server",
        args=("--bind", ip),
    )


def ssh_session(server: Host, ip: str, hold: float, then: Host | None = None) -> Program:
    """An SSH session to ``server``; with ``then``, the session hops on to that host."""
    hop = ("--then", then.ips[0]) if then else ()
    return Program(
        label=f"SSH session to {server.name}" + (f" and on to {then.name}" if then else ""),
        stack="OpenSSH ssh",
        module="ssh_client",
        args=("--host", ip, *hop, "--hold", str(hold)),
        flows=(
            Flow(server.name, ip, 22, "tcp", "ssh"),
            *((Flow(then.name, then.ips[0], 22, "tcp", "ssh", src=server.name),) if then else ()),
        ),
    )


def remote_desktop_relay(ip: str) -> Program:
    return Program(
        label="remote-desktop relay",
        stack="otseam TeamViewer-like relay",
        module="remote_desktop",
        args=("--mode", "relay", "--bind", ip),
    )


def remote_desktop_agent(relay: Host, hold: float) -> Program:
    ip = relay.ips[0]
    return Program(
        label=f"remote-desktop session via {relay.name}",
        stack="otseam TeamViewer-like agent",
        module="remote_desktop",
        args=("--mode", "agent", "--relay", ip, "--hold", str(hold)),
        flows=(Flow(relay.name, ip, 5938, "tcp", "teamviewer"),),
    )


def port_scan(targets: tuple[Host, ...], ports: tuple[int, ...]) -> Program:
    target_args = tuple(arg for host in targets for arg in ("--target", host.ips[0]))
    port_args = tuple(arg for port in ports for arg in ("--port", str(port)))
    return Program(
        label=f"TCP scan of {len(targets)} hosts x {len(ports)} ports",
        stack="Python socket",
        module="scanner",
        args=(*target_args, *port_args),
    )


def mdns_announce(name: str, addresses: tuple[str, ...]) -> Program:
    return Program(
        label=f"mDNS announcement of {name}",
        stack="dnspython",
        module="mdns_announce",
        requires=("dns",),
        args=("--name", name, *(arg for ip in addresses for arg in ("--address", ip))),
    )
