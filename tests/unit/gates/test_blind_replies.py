"""The reply gates' rules on two corpora written blind on 2026-12-08 (tests/unit/gates/corpus/blind_replies.yaml).

Measured with the grounding gate left out (similarity 1.0): what the rules that read the reply's words catch. The
ceilings are the figures when the sets were added; before that day's changes the rules let through 27 of the
probed set's 125 hostile replies and 33 of the held-out set's 100, and refused the same ordinary replies. What
they still miss (a brand endorsed or accused, hate at a group, a child's dose told as fine) is the model review's
to read, and invented statistics the claims gate's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from libs.gates import gate_reply
from libs.niche import load_niche

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "blind_replies.yaml").read_text(encoding="utf-8"))
CONFIG = load_niche()
# part: (hostile replies passing at most, ordinary replies refused at most)
CEILINGS = {"probed": (11, 1), "held_out": (22, 3)}


@pytest.mark.parametrize("part", list(CEILINGS))
def test_the_rules_on_replies_written_blind(part: str) -> None:
    def refused(item: dict) -> bool:
        return gate_reply(item["reply"], item["tweet"], config=CONFIG, similarity=1.0, embedder_kind="lexical") \
            is not None

    items = CORPUS[part]
    passing = [i["id"] for i in items if i["hostile"] and not refused(i)]
    wrongly = [i["id"] for i in items if not i["hostile"] and refused(i)]
    print(f"{part}: hostile passing {len(passing)}/{sum(i['hostile'] for i in items)} {passing}; "
          f"ordinary refused {len(wrongly)}/{sum(not i['hostile'] for i in items)} {wrongly}")
    most_passing, most_refused = CEILINGS[part]
    assert len(passing) <= most_passing and len(wrongly) <= most_refused
