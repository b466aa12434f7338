"""Golden tests: dissector output on corpus captures equals a committed file.

Each case decodes one capture and compares its operations, identities,
protocol roles and malformed messages (timestamps left out) with
tests/golden/<case>.json. Rewrite the files only on purpose, with
``pytest --update-golden``, and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otseam.decode.engine import FrameDecoder
from otseam.sources.capture import CaptureSource, decode_capture

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "modbus_test": "ModbusTCP/Modbus/modbus_test.pcap",
    "modbus_small": "bro/modbus/modbusSmall.pcap",
    "modbus_fuzz_72": "bro/modbus/fuzz-72.pcap",
    "modbus_fuzz_1011": "bro/modbus/fuzz-1011.pcap",
    "modbus_test_data_part1": "ModbusTCP/modbus_test_data_part1.pcap",
    "enip_list_identity": "EthernetIP/enip_test.pcap",
    "enip_ip_change_attempt": "openics/EIP-IPAddressChangeAttempt.pcap",
    "enip_start_plc": "EthernetIP/cip_start_plc.pcap",
}


def dissected(path: Path) -> dict[str, Any]:
    source = CaptureSource(str(path), path, path.stat().st_size)
    facts = decode_capture(source, FrameDecoder(strict=False))
    return {
        "operations": sorted([*key, counted.count] for key, counted in facts.operations.items()),
        "identities": sorted(list(key) for key in facts.identities),
        "roles": sorted(list(key) for key in facts.roles),
        "malformed": sorted([*key, counted.count] for key, counted in facts.malformed.items()),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_dissector_output_matches_golden(case: str, corpus: Path, update_golden: bool) -> None:
    actual = json.loads(json.dumps(dissected(corpus / CASES[case])))
    golden = GOLDEN / f"{case}.json"
    if update_golden:
        golden.write_text(_dump(actual))
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden and review it"
    assert actual == json.loads(golden.read_text())


def _dump(data: dict[str, list[list[Any]]]) -> str:
    """One row per line, so that a review of a golden change reads like a table."""
    parts = []
    for key in sorted(data):
        rows = ",\n".join(f"    {json.dumps(row)}" for row in data[key])
        parts.append(f'  "{key}": [\n{rows}\n  ]' if rows else f'  "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"
