"""What a chat model's answer becomes before the gates see it: the post, thread parts or reply the prompt asked
for, without the habits real models add around and inside it.

Removed: reasoning blocks (``<think>…</think>``, also a block whose opening tag the server stripped), code fences,
preambles ("Sure! Here's a tweet about gut health:", "Tweet:", "Option 1:") and closing remarks ("Let me know if
…", "(Character count: 212)"), wrapping quotes, Markdown (bold, italics, headings, bullets, links, inline code,
block quotes), an "As an AI, …, but" clause in front of the text, thread numbering ("1/5", "(2/5)", "3.",
"Tweet 4:", "Tweet 1 of 3:", "Hook:"), emoji and trailing hashtag runs (two or more; one hashtag is the niche's
allowance), an explanation after the text ("Why it works: …"); of several drafts offered where one was asked, the
first. Apostrophes typed as ’ read as ' (the text keeps its own). A structured
answer (JSON with ``text`` or ``parts``) is read first. Threads are split on ``---`` lines, on numbered parts,
or on blank lines (merging paragraphs when there are more than a thread may have). A part loses the generic padding
sentences at its end ("Remember that everyone's body is different …"; within the limit too, as other habits the
normaliser removes may be what made it over-long), an over-long one then whole trailing sentences down to the
limit. What cannot be repaired (a refusal, a placeholder, an over-long answer that no whole sentences can shorten)
is left for the gates to reject.

Pure functions only: no I/O, no model, so every rule is tested on a corpus of real models' habits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from libs.text import APOSTROPHES

Length = Callable[[str], int]

# ---------------------------------------------------------------- reasoning blocks and fences

_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning|reflection|analysis)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_REASONING_CLOSE = re.compile(r"^.*?</(?:think|thinking|reasoning|reflection|analysis)>", re.IGNORECASE | re.DOTALL)
_REASONING_OPEN = re.compile(r"<(?:think|thinking|reasoning|reflection|analysis)>.*$", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)\n?```", re.DOTALL)


def strip_reasoning(text: str) -> str:
    """Drop reasoning blocks; a lone closing tag means everything before it was reasoning, a lone opening tag
    (the answer was cut off while reasoning) means everything after it is."""
    text = _REASONING_BLOCK.sub("", text)
    text = _REASONING_CLOSE.sub("", text, count=1)
    return _REASONING_OPEN.sub("", text)


def strip_fences(text: str) -> str:
    return _FENCE.sub(lambda m: m.group(1), text)


# ---------------------------------------------------------------- preambles and closing remarks

_CONTENT_NOUN = (r"(?:tweets?|posts?|threads?|repl(?:y|ies)|drafts?|versions?|options?|captions?|takes?|x posts?|"
                 r"twitter (?:posts?|threads?)|response|rewrite|revised|updated|shorter)")
_INTERJECTION = (r"(?:sure(?: thing)?|certainly|of course|absolutely|okay|ok|alright|great(?: question| idea)?|"
                 r"good idea|got it|you got it|no problem|gladly|happy to help|i'?d be (?:happy|glad) to help|"
                 r"here you go)")
# A whole line that only announces the content ("Here's a tweet about gut health:", "Sure! Here is a thread:",
# "Absolutely — here's one:", "Here you go:").
# "I'd suggest something like this:", "I'd reply with something like: '…'"
_SUGGEST = (r"(?:(?:i'?d|i would)\s+(?:suggest|go with|reply with|respond with|post|write|say|recommend|try)|"
            r"i (?:suggest|recommend))\s+(?:something like(?: this| that)?|this(?: one)?|the following)")
_HERE = r"(?:here(?:'s|s| is| are)|below is|this is|i'?ve written|i wrote)"
_PREAMBLE_LINE = re.compile(
    rf"^\s*(?:{_INTERJECTION}[!.,]*(?:\s*[—–-])?\s*)?"
    rf"(?:{_HERE}\b"
    rf"[^\n]{{0,140}}?\b(?:{_CONTENT_NOUN}|attempt|suggestion|example)\b[^\n]{{0,140}}?:"
    rf"|(?:here(?:'s|s| is| are)|below is|i'?ve written|i wrote)\b"
    rf"[^\n:]{{0,80}}?\b{_CONTENT_NOUN}\b[^\n:.!?]{{0,60}}[.!]?"
    # "Here's one that should land well:", "Here's a punchy one:", "Sure, here it is:", "Here's how I'd respond:",
    # "Below you'll find the tweet:" ("Here's one thing nobody tells you:", "Here's the thing:" are hooks)
    rf"|here(?:'s|s| is) (?:one|mine|it)\s+(?:that|which|for you|you could|i'?d)\b[^\n]{{0,120}}:"
    rf"|here(?:'s|s| is)(?:\s+(?:a|an|my|the))?(?:\s+[\w-]+){{0,3}}\s+one\s*:"
    rf"|here(?:'s|s| is) (?:how|what) i'?d (?:respond|reply|say|post|write|go with)\b[^\n:]{{0,40}}:"
    rf"|below you'?ll find\b[^\n:]{{0,60}}:|here (?:it is|they are|you are)\s*[:!.]"
    rf"|here(?:'s|s| is) what i came up with\s*:|(?:final|revised|new) version below\s*:"
    rf"|as an? (?:tweet|post|reply|x post)\s*:|take (?:two|three|2|3)\s*:"
    rf"|here(?:'s| is) (?:one|mine|it)[!.:]*"
    # "I'd suggest something like this:", "I'd reply with something like:", "As requested, a tweet on fibre:"
    rf"|{_SUGGEST}\s*:"
    rf"|(?:as requested|as you asked)\b[^\n]{{0,140}}:"
    # a label on a line of its own: "[Tweet]", "Title: Sleep debt" (a post has no title), "Thread:", "Tweet
    # (friendly tone):" (a numbered "Tweet 1:" starts a thread's part: not here)
    rf"|\[(?:tweet|post|reply|thread|draft)\]|title\s*:[^\n]{{0,100}}"
    rf"|(?:(?:suggested|possible|proposed|sample|alternative|draft)\s+)?(?:tweet|post|reply|thread|draft|response)"
    rf"(?:\s+(?:draft|idea|option|version|text))?\s*(?:\([^)\n]{{0,40}}\))?\s*:?"
    rf"|try this one\s*:|how about this(?: one)?\s*[:?]"
    rf"|{_INTERJECTION}[!.:]*)\s*$",
    re.IGNORECASE,
)
# A lead line whose chat ends in the announcement: "Great topic! Sleep debt is real. Here's a tweet:", "I can't
# verify specific statistics, but here's a general tweet:". The announcement closes the line, so the whole line goes.
_ANNOUNCEMENT_END = re.compile(
    rf"(?:^|[.!?,;]\s+|\bbut\s+|\bso\s+)(?:{_HERE}|below are)\b[^\n.!?:]{{0,100}}?\b{_CONTENT_NOUN}\b"
    rf"[^\n.!?:]{{0,80}}:\s*$",
    re.IGNORECASE,
)
# A note about the answer above it: "Note: I've kept this under 280 characters."
_LEADING_NOTE = re.compile(
    r"^\s*\(?\s*(?:note|n\.b\.)\s*:[^\n]*\b(?:characters?|chars|under \d+|limit|tone|hashtags?|emojis?|kept)\b"
    r"[^\n]*$",
    re.IGNORECASE,
)
# The same announcement with the content on the same line after its colon.
_PREAMBLE_INLINE = re.compile(
    rf"^\s*(?:{_INTERJECTION}[!.,]*\s*)?(?:(?:here(?:'s| is| are)|below is)\b"
    rf"[^\n:]{{0,140}}?\b{_CONTENT_NOUN}\b[^\n:]{{0,140}}?|{_SUGGEST}|i'?d say|i would say"
    rf"|i'?d go with|you (?:could|might|can) (?:reply|say|post|respond|write)(?: with)?|something like"
    rf"|my (?:reply|tweet|post|answer|response) would be"
    rf"|(?:draft|suggested) (?:reply|tweet|post))\s*(?::|→|->)\s+",
    re.IGNORECASE,
)
# A bare label in front of the content: "Tweet:", "Post 1:", "Option 2 -", "Final draft:", "Reply:".
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:(?:final|revised|rewritten|new|suggested|possible|proposed|sample|alternative|draft)\s+)?"
    r"(?:tweet|post|thread|reply|draft|caption|option|version|answer|response|hook|body|cta|call to action)"
    r"(?:\s+(?:draft|idea|option|version|text))?"
    r"(?:\s*#?\d{1,2})?(?:\s*\([^)\n]{0,40}\))?\s*(?:\*\*)?\s*[:\-–—]\s*(?:\*\*)?\s*",
    re.IGNORECASE,
)
# The sections of a copywriting formula, each at a line start of one post ("Hook: …\nBody: …\nCTA: …").
_SECTION_LABEL = re.compile(r"(?im)^[ \t]*(?:\*\*)?(hook|body|cta|call to action)(?:\*\*)?[ \t]*:(?:\*\*)?[ \t]*")
_CLOSING_LINE = re.compile(
    r"^\s*(?:\(?\s*(?:character|char|word)s?\s*count\s*:?\s*~?\d+[^\n]*\)?|\(\s*~?\d+\s*(?:characters|chars|words)\s*\)|"
    r"\(\s*(?:under|within|below|just under|about|around|~)?\s*\d+\s*(?:characters|chars|words)\b[^\n]*\)|"
    r"\(?(?:let me know|feel free|i hope (?:this|that)|hope (?:this|that|it) (?:helps|works|fits|lands)|"
    r"would you like|do you want me|want (?:another|a different|a shorter|a longer) (?:version|one|take)|"
    r"(?:should|shall) i (?:make|add|change|adjust|shorten|try|write)\b[^\n]*\?|"
    r"\((?:tone|style|voice|format)\s*:[^\n)]*\)|"
    r"if you'?d like|want me to|i can (?:also|adjust|make|tweak|shorten)|happy to (?:adjust|tweak|help)|"
    r"this (?:tweet|post|thread|reply) (?:is|uses|keeps|stays|fits|has)|note:|notes:|\(note)[^\n]*"
    r"|[\[(]?(?:end of thread|end)[\])]?|/end)\s*$",
    re.IGNORECASE,
)


# A paragraph after the content that explains the writing ("**Explanation:** …", "Why it works: it opens with a
# hook …"): everything from it on. "Why it works:" is also a post's own section ("Why it works: sugary drinks are
# the leading source of added sugars"), so under that label only talk of the writing marks the model's note.
_EXPLANATION = re.compile(
    r"\n[ \t]*\n[ \t]*(?:\*\*|__)?(?:explanation|rationale|breakdown|key (?:points|elements|features)"
    r"|why (?:it|this) works(?=(?:\*\*|__)?\s*:[^\n]{0,160}\b(?:hook|tweet|post|reply|readers?|engag\w*|tone|"
    r"format|characters?|cta|call to action|punchy|concise|scroll\w*|takeaway|opens? with|ends? with|sentences?|"
    r"structure|wording|phrasing|emoji|hashtags?)\b))"
    r"(?:\*\*|__)?\s*:",
    re.IGNORECASE,
)
_TRAILING_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_EMPHASIS = re.compile(r"[*_]{1,3}")


def _as_read(line: str) -> str:
    """A line as the preamble and closing rules read it: one apostrophe, no emoji ("Certainly! 😊", "(Under 280
    characters ✅)"), no emphasis or heading marks ("**Character count:** 96", "### Reply")."""
    return _HEADING.sub("", _EMPHASIS.sub("", _EMOJI.sub("", line.translate(APOSTROPHES)))).strip()


def _is_lead(line: str) -> bool:
    return bool(_PREAMBLE_LINE.match(line) or _ANNOUNCEMENT_END.search(line) or _LEADING_NOTE.match(line))


def strip_preamble(text: str) -> str:
    # The patterns are written with ' and read the text with its typed apostrophes as ' ("Here’s a tweet:"); a
    # closing line may be set in emphasis ("*Note: …*").
    if m := _EXPLANATION.search(text):
        text = text[: m.start()]
    lines = text.strip().splitlines()
    while lines and (not lines[0].strip() or _is_lead(_as_read(lines[0]))):
        lines.pop(0)
    while lines and (not lines[-1].strip() or _HRULE.match(lines[-1]) or _TRAILING_SEPARATOR.match(lines[-1])
                     or _CLOSING_LINE.match(_as_read(lines[-1]))):
        lines.pop()
    out = "\n".join(lines)
    # A label ("Tweet:", "Post 1:") is removed per part (clean_part): in a thread it marks where parts start.
    inline = _PREAMBLE_INLINE.match(out.translate(APOSTROPHES))
    if inline is None:
        return out
    rest = out[inline.end():]
    # "I'd say: most of it comes in two weeks" starts a sentence once its lead is gone ("iPhone" keeps its case).
    return rest[:1].upper() + rest[1:] if rest[:2].islower() else rest


# ---------------------------------------------------------------- Markdown

_HRULE = re.compile(r"^\s*(?:\*{3,}|_{3,}|={3,})\s*$")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")
_ITALIC_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")
_HEADING = re.compile(r"(?m)^[ \t]*#{1,6}[ \t]+")
_BULLET = re.compile(r"(?m)^[ \t]*[-*+][ \t]+(?=\S)")
_QUOTE_BLOCK = re.compile(r"(?m)^[ \t]*>[ \t]?")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|www\.)[^)\s]+\)")
_CODE = re.compile(r"`([^`\n]+)`")


def strip_markdown(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\2", text)
    text = _ITALIC_STAR.sub(r"\1", text)
    text = _ITALIC_UNDERSCORE.sub(r"\1", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("", text)
    text = _QUOTE_BLOCK.sub("", text)
    text = _CODE.sub(r"\1", text)
    return "\n".join(line for line in text.splitlines() if not _HRULE.match(line))


# ---------------------------------------------------------------- numbering, quotes, emoji, hashtags

_NUMBER_PREFIX_THREAD = re.compile(
    r"^\s*(?:\(?\d{1,2}\s*/\s*\d{0,2}\)?[:.)]?|\d{1,2}[.)](?=\s)|"
    r"(?:tweet|part|post)\s*\d{1,2}(?:\s*(?:/|of)\s*\d{1,2})?\s*[:.)\-–—]?|"
    r"\(\d{1,2}\)(?=\s)|\[\d{1,2}\s*/\s*\d{1,2}\]|"
    r"(?:first|second|third|fourth|fifth|sixth)\s+(?:tweet|part|post)\s*[:.\-–—]?)\s*",
    re.IGNORECASE,
)
_NUMBER_PREFIX_SINGLE = re.compile(r"^\s*\(?\d{1,2}\s*/\s*\d{1,2}\)?[:.)]?\s+")
_NUMBER_SUFFIX = re.compile(r"\s*[(\[]?\d{1,2}\s*/\s*\d{1,2}[)\]]?\s*$")
# A count after the text on its line: '"…" — 212 characters', "… (212 chars)".
_COUNT_SUFFIX = re.compile(r"\s*(?:[—–-]|\()\s*~?\d{1,3}\s*(?:characters|chars|words)\s*\)?\s*$", re.IGNORECASE)
_OPEN_QUOTES = "\"“”'‘«„"
_CLOSE_QUOTES = "\"”“'’»"
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U0001F1E6-\U0001F1FF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D\u20E3]"
)
_HASHTAG_RUN = re.compile(r"(?:[ \t]*\n)*(?:[ \t]*#\w+){2,}[ \t.!]*$")
_SPACES = re.compile(r"[ \t]{2,}")


def strip_wrapping_quotes(text: str) -> str:
    """Quotes around the whole text (a model presenting its answer as a quotation), not quotes inside it."""
    t = text.strip()
    while len(t) >= 2 and t[0] in _OPEN_QUOTES and t[-1] in _CLOSE_QUOTES and _balanced(t[1:-1], t[0], t[-1]):
        t = t[1:-1].strip()
    return t


def _balanced(inner: str, opener: str, closer: str) -> bool:
    """The inner text never closes a quote it did not open, so the outer pair wraps all of it."""
    depth = 0
    for i, ch in enumerate(inner):
        if ch not in (opener, closer):
            continue
        if opener == closer == "'" and 0 < i < len(inner) - 1 and inner[i - 1].isalpha() and inner[i + 1].isalpha():
            continue  # an apostrophe: don't, it's
        before = inner[i - 1] if i else " "
        opening = before.isspace() or before in "([{—–-" if opener == closer else ch == opener
        depth += 1 if opening else -1
        if depth < 0:
            return False
    return depth == 0


def strip_emoji(text: str) -> str:
    return _EMOJI.sub("", text)


def strip_hashtag_run(text: str) -> str:
    return _HASHTAG_RUN.sub("", text)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


# "As an AI, I don't have personal experiences, but here's what the research says: <the text>", "I'm just an AI,
# but <the text>": a disclaimer clause in front of the text asked for, ended by "but", "that" or a colon. Only the
# clause goes; a disclaimer that is the whole sentence ("As an AI, I don't have personal experiences with sleep.")
# stays for the refusal gate, which also reads whatever is left.
_AI_LEAD = re.compile(
    r"(?im)^[ \t]*(?:as an? (?:ai|a\.i\.|artificial intelligence|(?:large )?language model|ai (?:language )?model|"
    r"ai assistant)|i'?m (?:just |only |merely )?an? (?:ai|a\.i\.|(?:large )?language model|ai (?:language )?model|"
    r"ai assistant))\b[^\n.!?:]{0,100}?"
    r"(?:,?[ \t]*\bbut\b(?:[ \t]*here(?:'s| is| are)\b[^\n:]{0,60}:)?|\bthat\b|:)[ \t]*"
    # What only a model says of itself, then the text: "I'm not able to browse the internet, but here's a general
    # tweet: …", "I can't verify specific statistics, but here's one: …" (the "but" form only).
    r"|^[ \t]*i(?:'m| am)? (?:not able to|unable to|can(?:not|'t)) (?:(?:browse|access) (?:the internet|the web|"
    r"real-time|current|live)|(?:verify|check|confirm) (?:specific |exact |the |these |any )?(?:statistics|stats|"
    r"numbers|figures|data|sources|facts|studies|research|claims))\b"
    r"[^\n.!?:]{0,80}?,?[ \t]*\bbut\b(?:[ \t]*here(?:'s| is| are)\b[^\n:]{0,60}:)?[ \t]*"
)


def strip_ai_disclaimer(text: str) -> str:
    m = _AI_LEAD.search(text.translate(APOSTROPHES))
    if m is None or not text[m.end():].strip():
        return text
    rest = text[m.end():]
    return text[: m.start()] + rest[:1].upper() + rest[1:]


def strip_formula_labels(text: str) -> str:
    """"Hook:", "Body:", "CTA:" at line starts, when the text opens with the hook: "Mind: calm.\nBody: strong." is a
    post's own list, a "Body:" after a "Hook:" is the formula's."""
    labels = list(_SECTION_LABEL.finditer(text))
    if not labels or labels[0].group(1).lower() != "hook" or text[: labels[0].start()].strip():
        return text
    return _SECTION_LABEL.sub("", text)


def clean_part(text: str, *, in_thread: bool = False) -> str:
    """One tweet's text: everything above but splitting. Habits nest in any order ("5/ - point", "**1/5**",
    quotes around a hashtag run or inside it, '"(3/3) - point"': the quotes hide the numbering, which hides the
    bullet), so the steps run until nothing changes (each is idempotent; a few rounds at most)."""
    numbering = _NUMBER_PREFIX_THREAD if in_thread else _NUMBER_PREFIX_SINGLE
    t = text
    for _ in range(5):
        before = t
        t = _tidy(strip_emoji(strip_markdown(strip_ai_disclaimer(t))))
        t = numbering.sub("", _LABEL.sub("", strip_formula_labels(t), count=1), count=1)
        t = _NUMBER_SUFFIX.sub("", strip_wrapping_quotes(_COUNT_SUFFIX.sub("", t)))
        t = strip_hashtag_run(t).strip()
        if t == before:
            break
    return _tidy(t)


# ---------------------------------------------------------------- whole answers


# Several drafts where one was asked for: "Here are three tweet options:" over a numbered list, or "Option 1: …
# Option 2: …". The first is the answer (a list the model did not announce as drafts is a listicle: kept whole).
_DRAFTS_ANNOUNCED = re.compile(
    rf"^\s*(?:{_INTERJECTION}[!.,]*(?:\s*[—–-])?\s*)?(?:here(?:'s| is| are|'re)|below are|these are|"
    r"i'?ve (?:written|drafted|come up with))\b[^\n]{0,100}\b(?:options|versions|variations|alternatives|drafts|"
    r"tweets|posts|replies)\b[^\n]{0,60}:\s*$",
    re.IGNORECASE,
)
_DRAFT_ITEM = re.compile(
    r"(?im)^[ \t]*(?:\*\*|#{1,6}[ \t]*)?(?:(option|version|draft|tweet|reply)[ \t]*#?)?([1-9])(?:\*\*)?[ \t]*"
    r"[.):\-–—](?:\*\*)?[ \t]*"
)


def first_draft(text: str) -> str:
    """The first of several drafts in an answer that offers them (``_DRAFTS_ANNOUNCED`` over a list numbered from
    1, or items labelled "Option 1", "Option 2"); any other answer unchanged."""
    lines = text.strip().splitlines()
    # The announcement may come after chat of its own ("I'd suggest something like this:\n\nHere are 3 options:").
    while lines and not _DRAFTS_ANNOUNCED.match(_as_read(lines[0])) and (not lines[0].strip()
                                                                       or _is_lead(_as_read(lines[0]))):
        lines.pop(0)
    announced = bool(lines) and _DRAFTS_ANNOUNCED.match(_as_read(lines[0])) is not None
    items = [m for m in _DRAFT_ITEM.finditer(text) if announced or m.group(1)]
    first = next((i for i, m in enumerate(items) if m.group(2) == "1"), None)
    if first is None or first + 1 >= len(items) or items[first + 1].group(2) != "2":
        return text
    return text[items[first].end(): items[first + 1].start()].strip()


def clean_text(text: str) -> str:
    """A post's or a reply's answer as the text to post."""
    return clean_part(strip_preamble(first_draft(strip_fences(strip_reasoning(text)))))


_SEPARATOR = re.compile(r"(?m)^\s*(?:-{3,}|—{1,}|\*{3,}|_{3,}|={3,})\s*$")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_MARKER = re.compile(
    r"(?im)^\s*(?:\*\*|#{1,6}\s*)?(?:\(?(\d{1,2})\s*/\s*\d{0,2}\)?[:.)]?|(\d{1,2})[.)](?=\s)|(?:tweet|part|post)\s*(\d{1,2})\b"
    # "(1) …", "[1/3] …", "#1 …", "First tweet: …" (since 2026-12-06)
    r"|\((\d{1,2})\)(?=\s)|\[(\d{1,2})\s*/\s*\d{1,2}\]|#(\d{1,2})(?=\s)"
    r"|(first|second|third|fourth|fifth|sixth)\s+(?:tweet|part|post)\b)"
)
# A keycap digit ("1️⃣ …"), read as the digit with a dot: the emoji rule would leave a bare "1".
_KEYCAP = re.compile("([1-9])\ufe0f?\u20e3")


def split_thread(text: str, *, max_parts: int = 6, limit: int = 280, length: Length = len,
                 wanted: int | None = None) -> list[str]:
    """A thread's parts from an answer: ``---``-style separator lines, else parts numbered 1, 2, 3 … at line
    starts, else paragraphs (blank lines). Paragraphs beyond the parts asked for (``wanted``, else ``max_parts``)
    are folded into the one before them, shortest first, while that fits ``limit``: a part may hold a blank
    line of its own."""
    body = _KEYCAP.sub(r"\1.", strip_preamble(strip_fences(strip_reasoning(text))))
    if _SEPARATOR.search(body):
        chunks = _SEPARATOR.split(body)
    elif (numbered := _numbered_chunks(body)) is not None:
        chunks = numbered
    else:
        chunks = [c.strip() for c in re.split(r"\n[ \t]*\n", body) if c.strip()]
        chunks = _merge(chunks, target=min(wanted or max_parts, max_parts), limit=limit, length=length)
    parts = [clean_part(c, in_thread=True) for c in chunks]
    return [p for p in parts if p]


def _numbered_chunks(body: str) -> list[str] | None:
    starts, cuts = [], []  # where each part's marker starts, and where its text does
    expected = 1
    for m in _MARKER.finditer(body):
        found = next(g for g in m.groups() if g)
        number = int(found) if found.isdigit() else _ORDINALS[found.lower()]
        if number == expected:
            starts.append(m.start())
            # A "#1" marker goes here: the parts' own numbering rule leaves "#1" alone ("#1 mistake: …" is a hook).
            cuts.append(m.end() if m.group(6) else m.start())
            expected += 1
    if len(starts) < 2 or body[: starts[0]].strip():
        return None
    return [body[a:b] for a, b in zip(cuts, starts[1:] + [len(body)])]


def _merge(chunks: list[str], *, target: int, limit: int, length: Length) -> list[str]:
    """Fold the shortest paragraph into the one before it (the first into the next) while there are more than
    ``target`` and the result fits: a short line is most often the rest of the part above it."""
    chunks = list(chunks)
    while len(chunks) > target:
        order = sorted(range(len(chunks)), key=lambda i: length(chunks[i]))
        for i in order:
            j = i - 1 if i > 0 else 1
            a, b = min(i, j), max(i, j)
            joined = chunks[a] + "\n\n" + chunks[b]
            if length(joined) <= limit:
                chunks[a : b + 1] = [joined]
                break
        else:
            break
    return chunks


# ---------------------------------------------------------------- structured answers


@dataclass(frozen=True)
class Answer:
    parts: list[str]
    structured: bool  # read from JSON


_TEXT_KEYS = ("text", "tweet", "post", "reply", "content", "response", "output", "message")


def read_answer(text: str, *, thread: bool, max_parts: int = 6, limit: int = 280, length: Length = len,
                wanted: int | None = None) -> Answer:
    """The parts of an answer: from JSON (``{"parts": [...]}`` or ``{"text": "..."}``) when it is JSON, else
    from the text; every part cleaned."""
    data = _json_object(text)
    if data is not None:
        raw_parts = data.get("parts")
        if thread and isinstance(raw_parts, str):  # the thread as one string under "parts": split like text
            raw_parts = [raw_parts]
        if thread and isinstance(raw_parts, list) and all(isinstance(p, str) for p in raw_parts):
            parts = [clean_part(strip_preamble(p), in_thread=True) for p in raw_parts]
            if len(parts) == 1:  # a thread returned as one string: split it like text
                return Answer(split_thread(raw_parts[0], max_parts=max_parts, limit=limit, length=length,
                                           wanted=wanted), True)
            return Answer([p for p in parts if p], True)
        # The schema's key, else the one a model chose without the schema ({"tweet": …}, {"response": …}).
        single = next((v for k in _TEXT_KEYS if isinstance(v := data.get(k), str)), None)
        if isinstance(single, str):
            if thread:
                return Answer(split_thread(single, max_parts=max_parts, limit=limit, length=length, wanted=wanted),
                              True)
            return Answer([clean_text(single)], True)
    if thread:
        return Answer(split_thread(text, max_parts=max_parts, limit=limit, length=length, wanted=wanted), False)
    return Answer([clean_text(text)], False)


def _json_object(text: str) -> dict[str, Any] | None:
    body = strip_fences(strip_reasoning(text)).strip()
    start, end = body.find("{"), body.rfind("}")
    lead = body[:start].strip().translate(APOSTROPHES) if start > 0 else ""
    if start < 0 or end <= start or lead and not _PREAMBLE_LINE.match(lead):
        return None
    try:
        data = json.loads(body[start : end + 1])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# ---------------------------------------------------------------- what no cleaning repairs

_PLACEHOLDER = re.compile(
    r"\{[A-Za-z_][A-Za-z0-9_ ]*\}"
    r"|\[(?:insert|your|add|link|source|citation|name|topic|url|statistic|number|x)\b[^\]\n]*\]",
    re.IGNORECASE,
)


def malformed_reason(text: str) -> str | None:
    """Why a cleaned text is still not the plain text that was asked for, or None."""
    stripped = text.strip()
    if not stripped:
        return "answer without text"
    if stripped.startswith(("{", "[")) and stripped.endswith(("}", "]")):
        return "answer is structured data, not plain text"
    if stripped.startswith('{"') or stripped.startswith("```"):
        return "answer is broken structured data"
    if m := _PLACEHOLDER.search(stripped):
        return f"answer has an unfilled placeholder {m.group(0)!r}"
    return None


_SENTENCE_END = re.compile(r"[.!?][)\"'”’]*(?=\s)")
# Padding: the generic sentences a model adds to an answer that runs past the length asked for ("Remember that
# everyone's body is different …", "Consistency beats intensity …"). They say nothing of the post's own point, so
# an over-long answer loses its trailing ones before anything else: cut only to the limit, the first of them stayed
# (a queued post carried "It is always a good idea to listen to your body and to talk to a professional …").
_PADDING = re.compile(
    r"\b(?:this|that|it) (?:all )?matters because\b|\beveryone(?:'s| is)\b[^.!?]{0,20}\bdifferent\b|"
    r"\bwhat works for one (?:person|of us)\b|\blisten(?:ing)? to your body\b|"
    r"\b(?:talk|speak|check) (?:to|with) (?:a|your) (?:health ?care |medical )?(?:professional|doctor|provider)\b|"
    r"\bconsult (?:a|your) (?:health ?care |medical )?(?:professional|doctor|provider)\b|"
    r"\bconsistency (?:beats|is (?:the )?key|over|wins|matters)\b|\bthe best (?:plan|routine|habit) is the one\b|"
    r"\b(?:small|tiny|little)(?:,? consistent)? (?:changes|steps|habits|wins) (?:compound|add up)\b|"
    r"\bhabits add up\b|\bover time,? (?:these|small|tiny|little) (?:habits|changes|steps)\b|"
    r"\bat the end of the day\b|\bprogress,? not perfection\b|\b(?:your|you) future self will thank\b|"
    r"\bit(?:'s| is) (?:always )?(?:a good idea|important to remember|worth remembering)\b",
    re.IGNORECASE,
)


# Where padding may start: after a sentence, a lead-in's colon or a closing bracket (a citation).
_PADDING_START = re.compile(r"(?:[.!?:][)\"'”’]*|\))(?=\s)")


def strip_padding(text: str) -> str:
    """``text`` without the generic padding sentences at its end (``_PADDING``), at least one sentence kept."""
    ends = [0, *(m.end() for m in _PADDING_START.finditer(text + " "))]
    while (len(ends) > 2 and ends[-1] >= len(text.rstrip()) - 1
           and _PADDING.search(text[ends[-2]:].translate(APOSTROPHES))):
        text = text[: ends[-2]].rstrip()
        ends.pop()
    return text


def fit_to_limit(text: str, limit: int, *, length: Length = len, keep_at_least: float = 0.5) -> str:
    """The text without the padding sentences at its end (``strip_padding``; also within the limit: the habits the
    normaliser removed may have been what made the answer over-long), then, when still over-long, shortened by
    dropping whole trailing sentences, when at least ``keep_at_least`` of it (and two sentences) remains;
    otherwise returned for the length gate to reject. A model asked for 260 characters often adds a
    closing sentence or two; a text that needs more than that is rewritten instead."""
    text = strip_padding(text)
    if length(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    for cut in reversed(ends[1:]):  # keep at least two sentences
        shorter = text[:cut].rstrip()
        if length(shorter) <= limit:
            return shorter if length(shorter) >= keep_at_least * length(text) else text
    return text
