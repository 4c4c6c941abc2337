"""The sandbox's model writes the same answers for the same seed in every process: a seeded benchmark or test that
differs between two runs of the same code cannot tell a change's effect from the writer's whim (one drew its late
habits from hash(None), which Python 3.11 takes from None's address: 268, then 278 items queued by the same
planner benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import random
from sandbox.habits import HabitRates, RealisticWriter
rates = HabitRates()
rates.update({"typographic": 0.5, "several_drafts": 0.3, "explains": 0.3, "chatty": 0.3, "wrapped": 0.3})
writer, rng = RealisticWriter(rates=rates), random.Random(7)
user = "Write one post of at most 260 characters.\\nTopic: sleep. Give one specific, safe habit."
for _ in range(80):
    print(repr(writer.answer([{"role": "user", "content": user}], rng).content))
"""


def test_a_seeded_writer_answers_alike_in_two_processes() -> None:
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout
            for seed in ("1", "2")]
    assert runs[0].count("\n") == 80 and runs[0] == runs[1]
