"""Errors the lab reports to a person.

They hang under otseam's one exception tree::

    OtseamError
    └── LabError                  the lab could not build, run or check the plant
        ├── LabSetupError         a tool or privilege the lab needs is missing
        ├── FabricError           a namespace, link, bridge or rule could not be made
        ├── DeviceError           a device stack could not be installed or started
        ├── CaptureError          tcpdump or mergecap failed
        └── CheckError            a fresh capture disagrees with the truth file

Every message names the device (or namespace, or file) and the reason.
"""

from __future__ import annotations

from otseam.errors import OtseamError

__all__ = [
    "CaptureError",
    "CheckError",
    "DeviceError",
    "FabricError",
    "LabError",
    "LabSetupError",
]


class LabError(OtseamError):
    """The lab could not build, run or check the plant."""


class LabSetupError(LabError):
    """A tool, Python stack or privilege the lab needs is missing."""


class FabricError(LabError):
    """A namespace, link, bridge, address or firewall rule could not be made."""


class DeviceError(LabError):
    """A device could not be started or its scripted action failed."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"device {device!r}: {reason}")
        self.device = device
        self.reason = reason


class CaptureError(LabError):
    """The capture could not be taken or merged."""


class CheckError(LabError):
    """A fresh capture disagrees with the truth file."""
