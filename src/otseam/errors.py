"""The one exception tree of otseam.

::

    OtseamError                   anything otseam reports to a person
    ├── CaptureError              a capture cannot be read at all
    │   └── UnsupportedLinkType   a link type otseam does not decode
    ├── StoreError                the database cannot be opened or written
    ├── ConfigError               a bad option, site file or setting
    └── DissectorError            a protocol message could not be dissected
                                  (raised only in strict mode; otherwise the
                                  raw bytes are kept and ingest moves on)

Foreign exceptions are converted where they enter, with ``raise ... from exc``,
so that a user never sees a bare traceback. Every message names the file, the
record or byte offset, and what to do.
"""

from __future__ import annotations

__all__ = [
    "CaptureError",
    "ConfigError",
    "DissectorError",
    "OtseamError",
    "StoreError",
    "UnsupportedLinkType",
]


class OtseamError(Exception):
    """Base of every error otseam reports to a person."""


class CaptureError(OtseamError):
    """A capture file (or stream) cannot be read."""


class UnsupportedLinkType(CaptureError):
    """The capture uses a link type otseam does not decode."""


class StoreError(OtseamError):
    """The store cannot be opened, migrated or written."""


class ConfigError(OtseamError):
    """A wrong option, setting or site file."""


class DissectorError(OtseamError):
    """A protocol message could not be dissected (strict mode only)."""
