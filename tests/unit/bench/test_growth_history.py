"""bench/growth.py's --history-posts: the sandbox of the run starts with that many past posts (its
XBOT_SANDBOX_HISTORY_POSTS), and the results say how many. The run itself is a stand-in here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.growth as bench

ANSWER = {"total": {"posts": 0, "replies": 0, "policy": 0.0, "uniform": 0.0, "oracle": 0.0, "share": None,
                    "follows_drawn": 0, "choices_per_slot": 0.0, "followers_gained": 0},
          "days": [], "hours": [9], "replies_with_pool": 0, "replies_unvalued": [], "history_posts": 40}


class StandInRun:
    """GrowthRun's surface as main() uses it: what it was asked to run with, a summary and the ground truth."""

    made: list["StandInRun"] = []

    def __init__(self, plan, *, reports_root: Path, cleanup: bool, env_overrides: dict[str, str]) -> None:
        self.plan, self.reports_root, self.env_overrides = plan, reports_root, env_overrides
        self.growth, self.pool_sizes = ANSWER, []
        StandInRun.made.append(self)

    async def run(self) -> Path:
        run_dir = self.reports_root / "run"
        run_dir.mkdir()
        (run_dir / "summary.json").write_text(json.dumps({"driver": "browser", "outcome": "completed"}))
        return run_dir


@pytest.mark.parametrize("argv, expected", [([], "0"), (["--history-posts", "40"], "40")])
def test_history_posts_reach_the_sandbox_and_the_results(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         argv: list[str], expected: str):
    monkeypatch.setattr(bench, "GrowthRun", StandInRun)
    monkeypatch.setattr(bench, "commit", lambda: "test")  # no git process in the fast tier
    StandInRun.made.clear()
    out = tmp_path / "growth.json"
    assert bench.main(["--hours", "1", "--out", str(out), *argv]) == 0
    [run] = StandInRun.made
    assert run.env_overrides == {"XBOT_SANDBOX_HISTORY_POSTS": expected}
    assert json.loads(out.read_text())["history_posts"] == int(expected)


def test_history_posts_out_of_range_are_refused():
    with pytest.raises(SystemExit):
        bench.main(["--history-posts", "-1"])
