"""Facts the account may state, and the gate that holds drafts to them.

- ``load_facts`` / ``load_niche_facts``: read and validate a facts file (``FactsFileError`` names the file and
  the entry at fault).
- ``FactIndex``: the usable facts (verified, unless the niche says otherwise) for a topic, or closest in meaning
  to a target tweet, for a prompt.
- ``check_claims(parts, provided_facts, embedder)``: None, or a ``ClaimRejection`` naming the first number,
  study or institution in the draft that no provided fact supports; ``drop_unsupported`` the draft without the
  sentences that carry such claims (the repair the planner tries before asking again).
- ``quantities``: numbers as a reader understands them ("seven hours" = "7 hours", "30%" = "30 percent").

Pure: imports libs.text, libs.niche and libs.core only.
"""

from libs.facts.claims import (
    GATE,
    Claim,
    ClaimRejection,
    check_claims,
    drop_unsupported,
    ungrounded_assertions,
    find_claims,
    unsupported_claims,
)
from libs.facts.model import UNDATED, Fact, FactBook, FactsFileError, load_facts, load_niche_facts, parse_facts
from libs.facts.numbers import Quantity, quantities, supported_by
from libs.facts.retrieval import FactIndex, ScoredFact, least_stated, prompt_lines

__all__ = [
    "GATE",
    "UNDATED",
    "Claim",
    "ClaimRejection",
    "Fact",
    "FactBook",
    "FactIndex",
    "FactsFileError",
    "Quantity",
    "ScoredFact",
    "check_claims",
    "drop_unsupported",
    "ungrounded_assertions",
    "find_claims",
    "least_stated",
    "load_facts",
    "load_niche_facts",
    "parse_facts",
    "prompt_lines",
    "quantities",
    "supported_by",
    "unsupported_claims",
]
