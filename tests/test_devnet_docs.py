"""docs/devnet.md shows a real ``elastos devnet`` run: its live log and summary have the format the code
prints today (the step names and order, each step's check, the summary's header and rows)."""

from __future__ import annotations

import re
from pathlib import Path

from reference.devnet import scenario as S

DOC = Path(__file__).resolve().parents[1] / "docs" / "devnet.md"


def _real_run() -> list[str]:
    text = DOC.read_text()
    after = text.split("(devnet-real-run)=", 1)[1]
    block = after.split("```text\n", 1)[1].split("\n```", 1)[0]
    return block.splitlines()


def test_the_pasted_run_has_the_format_of_the_code() -> None:
    lines = _real_run()
    steps = S.SCENARIOS["all"][1]
    assert lines[0] == f"devnet: scenario all ({S.SCENARIOS['all'][0]})"
    assert re.fullmatch(r"devnet: folder /\S+ \(logs, datadirs, devnet\.json\)", lines[1])
    n = len(steps)
    live = lines[2:2 + n]
    for i, (line, name) in enumerate(zip(live, steps, strict=True), 1):
        m = re.fullmatch(rf"\[{i:>{len(str(n))}}/{n}\] (\S+) +ok +\d+\.\ds  (.+)", line)
        assert m is not None, line
        assert m.group(1) == name
    header = S.summary_table([]).splitlines()
    start = lines.index(header[0])
    assert lines[start + 1] == header[1]
    rows = [ln for ln in lines[start + 2:] if ln and not ln.startswith(" ") and not ln.startswith("devnet:")]
    assert [r.split()[0] for r in rows] == steps
    assert all(re.match(r"\S+ +ok +\d+\.\ds  \S", r) for r in rows)
    assert re.fullmatch(rf"devnet: all {n} steps passed in \d+\.\d s", [ln for ln in lines if "steps passed" in ln][0])


def test_the_checks_in_the_pasted_run_are_the_codes_own() -> None:
    """Each live-log line's check is the sentence the code states for that step (so the page cannot drift)."""
    steps = S.SCENARIOS["all"][1]
    for line, name in zip(_real_run()[2:2 + len(steps)], steps, strict=True):
        assert re.split(r"\d\.\ds  ", line, maxsplit=1)[1] == S.CHECKED[name], line


def test_the_page_is_in_the_index_and_lists_every_scenario() -> None:
    assert "\ndevnet\n" in (DOC.parent / "index.md").read_text()
    text = DOC.read_text()
    for name in S.SCENARIOS:
        assert f"| `{name}`" in text, name
