"""The bundled sample is what the lab produced: in sync with the code, and with itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otseam.lab.check import check_capture
from otseam.lab.model import ROLES
from otseam.lab.plants import plant_named
from otseam.lab.sitefile import write_site
from otseam.lab.truth import SCHEMA, truth

Json = dict[str, Any]

ASSET_KEYS = {
    "name", "zone", "zones", "ips", "macs", "interfaces", "role", "purdue_level", "vendor",
    "product", "model", "firmware", "serial", "hostname", "identity_on_wire", "protocols",
    "description",
}  # fmt: skip


def _truth(sample: Path) -> Json:
    loaded: Json = json.loads((sample / "truth.json").read_text())
    return loaded


def test_sample_files_are_there_and_small(sample: Path) -> None:
    for name in ("plant.pcap", "truth.json", "site.yaml", "README.md"):
        assert (sample / name).is_file(), name
    assert (sample / "plant.pcap").stat().st_size < 5 * 1024 * 1024


def test_sample_capture_is_classic_pcap_over_ethernet(sample: Path) -> None:
    header = (sample / "plant.pcap").read_bytes()[:24]
    assert header[:4] == b"\xd4\xc3\xb2\xa1"  # libpcap, little-endian, microseconds
    assert int.from_bytes(header[20:24], "little") == 1  # LINKTYPE_ETHERNET


def test_sample_truth_has_the_documented_shape(sample: Path) -> None:
    doc = _truth(sample)
    assert doc["schema"] == SCHEMA
    assets = doc["assets"]
    assert isinstance(assets, list)
    for asset in assets:
        assert set(asset) == ASSET_KEYS
        assert asset["role"] in ROLES
        assert len(asset["ips"]) == len(asset["macs"]) >= 1


def test_sample_truth_is_what_the_plant_definition_says(sample: Path) -> None:
    doc = _truth(sample)
    regenerated = truth(plant_named("converged"), doc["capture"])
    assert doc == regenerated, "re-run `python -m otseam.lab run` to refresh the sample"


def test_sample_site_file_is_what_the_plant_definition_says(sample: Path, tmp_path: Path) -> None:
    fresh = write_site(plant_named("converged"), tmp_path / "site.yaml")
    assert fresh.read_text() == (sample / "site.yaml").read_text()


def test_sample_capture_agrees_with_its_truth(sample: Path, tshark: str) -> None:
    assert check_capture(sample / "plant.pcap", sample / "truth.json") == []


def _other_mac(d: Json) -> None:
    d["assets"][1]["interfaces"][0]["mac"] = "02:00:00:00:00:99"


def _closed_port(d: Json) -> None:
    d["conversations"].append(dict(d["conversations"][0], dst_port=9))


def _wrong_operator(d: Json) -> None:
    d["operations"].append(dict(d["operations"][0], src="ws-01"))


def _moved_zone(d: Json) -> None:
    d["zones"][0]["cidrs"] = ["10.99.0.0/24"]


def _unrouted(d: Json) -> None:
    d["crossings"][0]["src_ip"] = "10.10.0.21"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_other_mac, "no frame from MAC"),
        (_closed_port, "not opened"),
        (_wrong_operator, "no frame matches"),
        (_moved_zone, "outside every zone"),
        (_unrouted, "no frame to the router"),
    ],
)
def test_check_reports_a_truth_that_the_capture_contradicts(
    sample: Path, tmp_path: Path, tshark: str, change: Callable[[Json], None], expected: str
) -> None:
    doc = _truth(sample)
    change(doc)
    tampered = tmp_path / "truth.json"
    tampered.write_text(json.dumps(doc))
    problems = check_capture(sample / "plant.pcap", tampered)
    assert any(expected in problem for problem in problems), problems
