"""JSON as chat models write it when asked for JSON without a schema they are held to.

Strict JSON first; then the two slips seen from models that are not constrained to JSON: a trailing comma before
a closing bracket ({"text": "…",}) and a Python literal (single quotes, True/None: {'text': '…'}). Read with
``ast.literal_eval``, which evaluates literals only, never code. Anything else stays unreadable (ValueError), so
the caller treats the answer as text or asks again."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

# A comma before a closing bracket, outside strings (a string is matched whole first, so its commas stay).
_TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,\s*([}\]])')


def loads_answer(text: str) -> Any:
    """The value of a model's JSON text; ValueError when it is none of the forms above."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text))
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        raise ValueError(f"not JSON: {err}") from None
