"""Run one external command with a time limit, turning failures into lab errors."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from otseam.lab.errors import FabricError, LabError, LabSetupError

__all__ = ["netns_argv", "require_tools", "run"]

DEFAULT_TIMEOUT = 20.0


def run(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    error: type[LabError] = FabricError,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; raise ``error`` naming the command if it fails or times out."""
    shown = " ".join(argv)
    try:
        result = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input_text,
        )
    except subprocess.TimeoutExpired as exc:
        raise error(f"`{shown}` did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise error(f"`{shown}` could not be started: {exc}") from exc
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {result.returncode}"
        raise error(f"`{shown}` failed: {reason}")
    return result


def netns_argv(namespace: str, argv: Sequence[str]) -> list[str]:
    """The argv that runs ``argv`` inside network namespace ``namespace``."""
    return ["ip", "netns", "exec", namespace, *argv]


def require_tools(tools: Sequence[str]) -> None:
    """Raise LabSetupError naming every missing executable and its Debian package."""
    packages = {
        "ip": "iproute2",
        "tc": "iproute2",
        "tcpdump": "tcpdump",
        "tshark": "tshark",
        "mergecap": "wireshark-common",
        "capinfos": "wireshark-common",
        "nft": "nftables",
        "dnsmasq": "dnsmasq-base",
        "sshd": "openssh-server",
        "ssh": "openssh-client",
        "ssh-keygen": "openssh-client",
        "ethtool": "ethtool",
        "dhclient": "isc-dhcp-client",
    }
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        listed = ", ".join(f"{tool} (Debian package {packages.get(tool, '?')})" for tool in missing)
        raise LabSetupError(f"the lab needs these programs, which are not installed: {listed}")
