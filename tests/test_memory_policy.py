"""The ingest command's allocator setting (``collector.map_large_blocks``):
blocks of a MiB and more are mapped apart and go back to the system when
freed, where glibc by default would keep them in its heap once a larger
block had been freed before (its threshold follows the largest free)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
import numpy as np
from otseam.collector import map_large_blocks
if sys.argv[1] == "mapped":
    map_large_blocks()
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 >> 20
big = np.ones(16 << 20, dtype=np.uint8)
del big  # a 16 MiB block freed: glibc raises its mapping threshold to it (up to 32 MiB)
before = resident()
blocks, kept = [], []
for _ in range(100):  # 200 MiB of 2 MiB blocks, each followed by a small one that stays
    blocks.append(np.ones(2 << 20, dtype=np.uint8))
    kept.append(bytearray(4096))
del blocks
print(resident() - before)
"""


def _kept_mib(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc: Linux only")
def test_freed_large_blocks_go_back_to_the_system() -> None:
    assert _kept_mib("mapped") < 20
    assert _kept_mib("default") > 150  # what the setting is for: glibc keeps them
