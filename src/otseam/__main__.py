"""``python -m otseam``."""

from otseam.cli import main

main()
