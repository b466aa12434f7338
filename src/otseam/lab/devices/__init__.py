"""Device programs the lab runs inside the plant's namespaces.

Each module is started as ``python -m otseam.lab.devices.NAME ARGS`` by
``ip netns exec``. Every program takes ``--lifetime SECONDS`` and ends by
itself when it runs out; servers print ``READY`` once they listen.
"""
