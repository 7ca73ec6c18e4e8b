"""core/bound.py: the count of a group's vector instructions read from objdump, and the probe's run."""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
try:
    import bound  # core/bound.py
finally:
    sys.path.pop(0)

DISASSEMBLY = """
0000000000001000 <before>:
    1000:\tvpaddd %zmm1,%zmm2,%zmm3

0000000000001100 <sha256d64_words>:
    1100:\tpush   %rbp
    1101:\tvpaddd %zmm1,%zmm2,%zmm3
    1107:\tvpternlogd $0x96,%zmm4,%zmm5,%zmm6
    110e:\tvprord $0x6,%zmm1,%zmm2
    1115:\tvprold $0x1a,%zmm1,%zmm2
    111c:\tvpsrld $0x3,%zmm1,%zmm2
    1123:\tvmovdqa32 %zmm1,%zmm7
    1129:\tvmovdqa32 %zmm1,0x40(%rsp)
    1131:\tvpbroadcastd 0x10(%rip),%zmm8
    1139:\tvpbroadcastd %eax,%zmm9
    1140:\tvpaddd 0x80(%rip){1to16},%zmm1,%zmm2
    1148:\tret

0000000000001200 <after>:
    1200:\tvprord $0x6,%zmm1,%zmm2
"""


def test_the_count_reads_only_the_function_and_sorts_its_instructions():
    k = bound.count_instructions(DISASSEMBLY)
    # the additions (one with a broadcast operand), vpternlogd, two rotations, a shift, a broadcast
    # from a register; the rotation of `after` and the addition of `before` are not counted
    assert k["vector"] == 7
    assert k["port0"] == 3
    assert k["copies"] == 1
    assert k["memory"] == 2
    assert k["other"] == 2


def test_a_missing_function_is_an_error():
    with pytest.raises(SystemExit, match="no function sha256d64_words"):
        bound.count_instructions(DISASSEMBLY.replace("sha256d64_words", "other"))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or shutil.which("objdump") is None
                    or shutil.which("cc") is None, reason="the AVX-512 code is built for x86-64 only")
def test_the_probe_counts_three_compressions_of_sixteen_lanes():
    r = bound.run()
    k = r["instructions"]
    # 190 rounds (64 + 64 + 64, less round 0 of the two compressions from the initial state) of at least
    # Sigma0, Sigma1, Ch, Maj and the additions, and the two message schedules of 48 words each
    assert 190 * 14 + 2 * 48 * 8 <= k["vector"] <= 190 * 17 + 2 * 48 * 11 + 64
    # each round rotates six times; each schedule word two rotations and a shift for each sigma
    assert 190 * 6 <= k["port0"] <= 190 * 6 + 2 * 48 * 6
    if r["available"]:
        assert r["vector_instructions"] == k["vector"] and r["rotations_and_shifts"] == k["port0"]
        assert r["bound_ns"] >= k["vector"] / r["adds_per_cycle"] / r["ghz"] * 0.999
        assert r["level_share_of_bound"] == r["bound_ns"] / r["level_ns"]
    else:
        assert "AVX-512" in r["why"]
