"""The tshark oracle: what Wireshark says about a capture, for comparing with otseam.

``tshark`` runs tshark and parses its output, ``expected`` turns tshark's
per-frame fields into the tables otseam should produce, ``store`` reads what
otseam did produce, ``captures`` names the corpus files compared, and
``synthetic`` writes small captures for the differences the corpus lacks.
See docs/oracle.md.
"""
