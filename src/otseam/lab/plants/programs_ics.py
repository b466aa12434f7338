"""Program recipes for the ICS stacks: S7comm, OPC UA, BACnet/IP and IEC 60870-5-104."""

from __future__ import annotations

from otseam.lab.model import Flow, Host, Identity, Operation, Program

__all__ = [
    "bacnet_device",
    "bacnet_identify",
    "bacnet_poll",
    "iec104_command",
    "iec104_poll",
    "iec104_rtu",
    "opcua_poll",
    "opcua_server",
    "opcua_write",
    "s7_action",
    "s7_plc",
    "s7_poll",
]

S7_STACK = "python-snap7"
S7_OPERATIONS = {
    "identify": ("read_identity", "Read SZL 0x0011 and 0x001C"),
    "download": ("program_download", "Request Download / Download Block / Download Ended, DB10"),
    "stop": ("plc_stop", "PLC Stop (function 0x29)"),
    "start": ("plc_start", "PI service P_PROGRAM (hot restart)"),
}


def s7_plc(ip: str, identity: Identity, order_code: str, module: str) -> Program:
    return Program(
        label="S7comm server",
        stack=S7_STACK,
        module="s7_plc",
        requires=("snap7",),
        args=(
            "--bind", ip, "--station", identity.hostname or "", "--module", module,
            "--module-type", module, "--serial", identity.serial or "",
            "--order-code", order_code, "--firmware", identity.firmware or "",
        ),
    )  # fmt: skip


def s7_poll(plc: Host, interval: float = 2.0) -> Program:
    ip = plc.ips[0]
    return Program(
        label=f"S7 poll of {plc.name}",
        stack=S7_STACK,
        module="s7_client",
        requires=("snap7",),
        args=("--host", ip, "--mode", "poll", "--interval", str(interval)),
        flows=(Flow(plc.name, ip, 102, "tcp", "s7comm"),),
    )


def s7_action(plc: Host, mode: str, src_ip: str | None = None) -> Program:
    ip = plc.ips[0]
    operation, detail = S7_OPERATIONS[mode]
    return Program(
        label=f"S7 {mode} on {plc.name}",
        stack=S7_STACK,
        module="s7_client",
        requires=("snap7",),
        args=("--host", ip, "--mode", mode),
        flows=(Flow(plc.name, ip, 102, "tcp", "s7comm", src_ip),),
        operations=(Operation(plc.name, "s7comm", operation, detail),),
    )


def opcua_server(ip: str, identity: Identity) -> Program:
    return Program(
        label="OPC UA server",
        stack="asyncua",
        module="opcua_server",
        requires=("asyncua",),
        args=(
            "--bind", ip, "--name", identity.hostname or "", "--manufacturer",
            identity.vendor or "", "--product", identity.product or "",
            "--version", identity.firmware or "",
        ),
    )  # fmt: skip


def opcua_poll(server: Host, interval: float = 2.0) -> Program:
    ip = server.ips[0]
    return Program(
        label=f"OPC UA reads from {server.name}",
        stack="asyncua",
        module="opcua_client",
        requires=("asyncua",),
        args=("--url", f"opc.tcp://{ip}:4840/", "--mode", "poll", "--interval", str(interval)),
        flows=(Flow(server.name, ip, 4840, "tcp", "opcua"),),
    )


def opcua_write(server: Host, value: float) -> Program:
    ip = server.ips[0]
    return Program(
        label=f"OPC UA write to {server.name}",
        stack="asyncua",
        module="opcua_client",
        requires=("asyncua",),
        args=("--url", f"opc.tcp://{ip}:4840/", "--mode", "write", "--value", str(value)),
        flows=(Flow(server.name, ip, 4840, "tcp", "opcua"),),
        operations=(Operation(server.name, "opcua", "write", f"Line1.Setpoint := {value}"),),
    )


def bacnet_device(ip: str, identity: Identity, instance: int, vendor_id: int) -> Program:
    return Program(
        label="BACnet/IP device",
        stack="bacpypes3",
        module="bacnet_device",
        requires=("bacpypes3",),
        args=(
            "--address", f"{ip}/24", "--instance", str(instance), "--name",
            identity.hostname or "", "--vendor-id", str(vendor_id), "--vendor",
            identity.vendor or "", "--model", identity.model or "", "--firmware",
            identity.firmware or "", "--serial", identity.serial or "",
            "--application", identity.product or "",
        ),
    )  # fmt: skip


def _bacnet_client(client_ip: str, device: Host, instance: int, mode: str) -> tuple[str, ...]:
    return ("--address", f"{client_ip}/24", "--device", device.ips[0],
            "--instance", str(instance), "--mode", mode)  # fmt: skip


def bacnet_identify(client_ip: str, device: Host, instance: int) -> Program:
    return Program(
        label=f"BACnet Who-Is and identity reads of {device.name}",
        stack="bacpypes3",
        module="bacnet_client",
        requires=("bacpypes3",),
        args=_bacnet_client(client_ip, device, instance, "identify"),
        flows=(Flow(device.name, device.ips[0], 47808, "udp", "bacnet"),),
        operations=(Operation(device.name, "bacnet", "read_identity", "Who-Is, ReadProperty"),),
    )


def bacnet_poll(client_ip: str, device: Host, instance: int, interval: float = 5.0) -> Program:
    """Who-Is and identity reads at start, then cyclic reads (one process binds UDP 47808)."""
    return Program(
        label=f"BACnet poll of {device.name}",
        stack="bacpypes3",
        module="bacnet_client",
        requires=("bacpypes3",),
        args=(*_bacnet_client(client_ip, device, instance, "poll"), "--interval", str(interval)),
        flows=(Flow(device.name, device.ips[0], 47808, "udp", "bacnet"),),
        operations=(Operation(device.name, "bacnet", "read_identity", "Who-Is, ReadProperty"),),
    )


def iec104_rtu(ip: str, common_address: int) -> Program:
    return Program(
        label="IEC 104 server",
        stack="c104",
        module="iec104_rtu",
        requires=("c104",),
        args=("--bind", ip, "--common-address", str(common_address)),
    )


def iec104_poll(rtu: Host, common_address: int, command_after: float | None = None) -> Program:
    """Supervision of ``rtu``; with ``command_after``, a breaker command after that many seconds."""
    ip = rtu.ips[0]
    later = ("--command-after", str(command_after)) if command_after is not None else ()
    operations: tuple[Operation, ...] = ()
    if command_after is not None:
        detail = "C_SC_NA_1 single command, IOA 21 := ON"
        operations = (Operation(rtu.name, "iec104", "control", detail),)
    return Program(
        label=f"IEC 104 supervision of {rtu.name}",
        stack="c104",
        module="iec104_client",
        requires=("c104",),
        args=("--host", ip, "--common-address", str(common_address), "--mode", "poll", *later),
        flows=(Flow(rtu.name, ip, 2404, "tcp", "iec104"),),
        operations=operations,
    )


def iec104_command(rtu: Host, common_address: int) -> Program:
    ip = rtu.ips[0]
    return Program(
        label=f"IEC 104 command to {rtu.name}",
        stack="c104",
        module="iec104_client",
        requires=("c104",),
        args=("--host", ip, "--common-address", str(common_address), "--mode", "command"),
        flows=(Flow(rtu.name, ip, 2404, "tcp", "iec104"),),
        operations=(
            Operation(rtu.name, "iec104", "control", "C_SC_NA_1 single command, IOA 21 := ON"),
        ),
    )
