"""The lab refuses clearly, before touching the network, when it cannot run."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from otseam.lab.__main__ import main
from otseam.lab.command import require_tools
from otseam.lab.errors import LabError, LabSetupError
from otseam.lab.plants import plant_named
from otseam.lab.runner import preflight, run_lab


def test_unknown_plant_is_a_usage_error() -> None:
    assert main(["run", "--plant", "nope", "--out", "/nonexistent"]) == 2


def test_too_short_a_run_is_refused_before_building(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="too short"):
        run_lab(plant_named("converged"), tmp_path, 10, Console(quiet=True))


def test_missing_stack_names_the_device_and_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "snap7" else real(name)
    )
    with pytest.raises(LabSetupError) as caught:
        preflight(plant_named("converged"))
    message = str(caught.value)
    assert "plc-s7-01" in message and "python-snap7" in message and "otseam[lab]" in message


def test_missing_program_names_its_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "dnsmasq" else "/bin/x")
    with pytest.raises(LabSetupError, match=r"dnsmasq \(Debian package dnsmasq-base\)"):
        require_tools(["ip", "dnsmasq"])


def test_check_subcommand_reports_agreement(sample: Path, tshark: str) -> None:
    assert main(["check", str(sample)]) == 0
