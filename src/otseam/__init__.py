"""otseam: see and guard the seam between a plant's OT network and corporate IT.

Data flows one way::

    sources -> decode -> observations -> store -> analysis -> outputs

``otseam.ingest.ingest`` is the library entry point; ``otseam.cli`` is the
command line.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
