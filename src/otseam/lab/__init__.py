"""A converged plant in a box: real OT and IT stacks in network namespaces, recorded.

``python -m otseam.lab run`` builds the plant (one namespace per host, one
bridge per zone, a router with nftables between zones, an "internet" on
documentation addresses), starts the devices, plays a bounded scenario,
captures it, writes ``plant.pcap``, ``truth.json`` and ``site.yaml``, and
tears everything down. See ``docs/lab.md``.
"""

from __future__ import annotations

__all__: list[str] = []
