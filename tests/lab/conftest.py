"""Shared fixtures for the lab's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "otseam" / "data" / "sample"


@pytest.fixture
def sample() -> Path:
    return SAMPLE


@pytest.fixture
def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed (Debian package tshark)")
    return path
