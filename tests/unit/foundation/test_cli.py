"""The `xbot` command line, without servers: the module runner is replaced by a recorder."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import ops.cli as cli
from libs.bus.tail import subjects_overlap


@pytest.fixture
def runs(monkeypatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []

    def record(module: str, *args: str, env=None) -> int:
        calls.append((module, *args))
        return 0

    monkeypatch.setattr(cli, "_run_module", record)
    return calls


@pytest.mark.parametrize("argv", [["bench", "events", "--events", "1000"],
                                  ["bench", "events", "--", "--events", "1000"]])
def test_bench_passes_options_after_the_name_to_the_benchmark(runs, argv):
    result = CliRunner().invoke(cli.app, argv)
    assert result.exit_code == 0, result.output
    assert runs == [("bench.events", "--events", "1000")]


def test_unknown_benchmark_exits_2_and_runs_nothing(runs):
    result = CliRunner().invoke(cli.app, ["bench", "nope", "--events", "1000"])
    assert result.exit_code == 2 and runs == []


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ("xbot.>", "xbot.planner.>", True),
    ("xbot.planner.content.queued", "xbot.planner.>", True),
    ("xbot.*.content.queued", "xbot.poster.>", True),
    ("xbot.poster.>", "xbot.planner.>", False),
    ("xbot.planner", "xbot.planner.>", False),  # ">" needs at least one more token
    ("other.>", "xbot.planner.>", False),
])
def test_subjects_overlap(a, b, overlap):
    assert subjects_overlap(a, b) is overlap and subjects_overlap(b, a) is overlap
