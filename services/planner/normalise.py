"""What a chat model's answer becomes before the gates see it: the post, thread parts or reply the prompt asked
for, without the habits real models add around and inside it.

Removed: reasoning blocks (``<think>…</think>``, also a block whose opening tag the server stripped), code fences,
preambles ("Sure! Here's a tweet about gut health:", "Tweet:", "Option 1:") and closing remarks ("Let me know if
…", "(Character count: 212)"), wrapping quotes, Markdown (bold, italics, headings, bullets, links, inline code,
block quotes), an "As an AI, …, but" clause in front of the text, thread numbering ("1/5", "(2/5)", "3.",
"Tweet 4:", "Tweet 1 of 3:", "Hook:"), emoji and trailing hashtag runs (two or more; one hashtag is the niche's
allowance), an explanation after the text ("Why it works: …"); of several drafts offered where one was asked, the
first; a sentence that repeats word for word what an earlier one ended with (a decoding loop). Besides those
named phrasings, a paragraph at either end that talks about the request, the requester or
the writing rather than the niche, metadata lines under the text ("Tone: …"), asides naming the writing ("(Word
count: 14)"), markup or template tokens around the whole answer and a placeholder mention ("@username").
By shape, whatever the words: a short first paragraph
that hands the text over, a short last one that offers more drafts or disclaims the answer, one paragraph wholly
in quotes between short ones, a thread's first or last part that is chat as a whole, a header over a thread; the
edge rules run together until nothing changes (one unknown lead shielded everything behind it). A last sentence
that is engagement bait ("Save this for later.") goes; letters of Unicode's mathematical alphabets read as letters.
Apostrophes typed as ’ read as ' (the text keeps its own). A structured answer (JSON with ``text`` or ``parts``) is
read first. Threads are split on ``---`` lines, on numbered parts, or on blank lines (merging paragraphs when there
are more than a thread may have). A part loses the generic padding sentences at its end ("Remember that everyone's
body is different …"; within the limit too, as other habits the normaliser removes may be what made it over-long),
an over-long one then whole trailing sentences down to the limit (never at an abbreviation's dot nor inside
brackets). What cannot be repaired (a refusal, a placeholder,
an over-long answer that no whole sentences can shorten) is left for the gates to reject.

Pure functions only: no I/O, no model, so every rule is tested on a corpus of real models' habits.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from libs.text import APOSTROPHES
from libs.text.json_answer import loads_answer
from libs.text.sentences import balanced, sentence_ends

Length = Callable[[str], int]

# ---------------------------------------------------------------- reasoning blocks and fences

_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning|reflection|analysis)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_REASONING_CLOSE = re.compile(r"^.*?</(?:think|thinking|reasoning|reflection|analysis)>", re.IGNORECASE | re.DOTALL)
_REASONING_OPEN = re.compile(r"<(?:think|thinking|reasoning|reflection|analysis)>.*$", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)\n?```", re.DOTALL)


# A chat template's own tokens that a local server let through ("<|eot_id|>", "</s>", "<end_of_turn>", "[/INST]").
# A token that opens a turn names its role: "<|im_start|>assistant", "<|start_header_id|>assistant<|end_header_id|>".
_TEMPLATE_TOKEN = re.compile(
    r"(?:<\|(?:im_start|start_header_id)\|>|<start_of_turn>)[ \t]*(?:assistant|model|system|user)?[ \t]*"
    r"(?:<\|end_header_id\|>)?|<\|[a-z_]{2,30}\|>|</?s>|<end_of_turn>|\[/?INST\]|<</?SYS>>",
    re.IGNORECASE,
)


# gpt-oss's channels as a server that does not parse them passes them on: the answer is the final channel's.
_FINAL_CHANNEL = re.compile(r"<\|channel\|>\s*final\s*<\|message\|>", re.IGNORECASE)
_OTHER_CHANNEL = re.compile(r"<\|channel\|>\s*(?:analysis|commentary)\b.*?(?:<\|end\|>|$)", re.IGNORECASE | re.DOTALL)
# A small model that runs on past its turn writes the next one itself ("User: Thanks! Another one?"), in words or
# in its template's tokens ("<|im_start|>user", "<start_of_turn>user", "<|start_header_id|>user"): from there on
# nothing is the answer. "[INST] … [/INST]" is the instruction echoed back.
_NEXT_TURN = re.compile(
    r"(?im)(?:^[ \t]*(?:#{1,6}[ \t]*)?(?:user|human|instruction)[ \t]*:"
    r"|(?:<\|im_start\|>|<start_of_turn>|<\|start_header_id\|>)[ \t]*user\b|<\|user\|>).*",
    re.DOTALL,
)
_ECHOED_INSTRUCTION = re.compile(r"^\s*\[INST\].*?\[/INST\]", re.IGNORECASE | re.DOTALL)
# The role a template names in words, in front of the whole answer ("Assistant: Here is a tweet …").
# The answer's role named over it: "Assistant: …", a "### Response:" heading, or "assistant" alone on its line (a
# chat template's role header let through).
_ROLE = re.compile(r"^\s*(?:(?:assistant|model)\s*:[ \t]*|#{1,6}[ \t]*response[ \t]*:?[ \t]*\n"
                   r"|(?:assistant|model)[ \t]*\n)", re.IGNORECASE)


def strip_reasoning(text: str) -> str:
    """Drop reasoning blocks (and the template tokens and invented turns around them); a lone closing tag means
    everything before it was reasoning, a lone opening tag (the answer was cut off while reasoning) means everything
    after it is."""
    finals = list(_FINAL_CHANNEL.finditer(text))
    text = text[finals[-1].end():] if finals else _OTHER_CHANNEL.sub("", text)
    text = _ROLE.sub("", _ECHOED_INSTRUCTION.sub("", _NEXT_TURN.sub("", text)).lstrip())
    text = _REASONING_BLOCK.sub("", _TEMPLATE_TOKEN.sub("", text))
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
    # "Sure — a tweet on magnesium and sleep:", "One post about fibre, coming up:" ("A post-workout rule:" is a hook)
    rf"|(?:a|an|one|my|your)\s+(?:[\w-]+\s+){{0,3}}?(?:tweet|post|reply|thread|x post)(?![\w-])\s+"
    rf"(?:on|about|for|re)\b[^\n]{{0,100}}:"
    rf"|here(?:'s| is) (?:one|mine|it)[!.:]*"
    # "I'd suggest something like this:", "I'd reply with something like:", "As requested, a tweet on fibre:"
    rf"|{_SUGGEST}\s*:"
    rf"|(?:as requested|as you asked)\b[^\n]{{0,140}}:"
    # a label on a line of its own: "[Tweet]", "Title: Sleep debt" (a post has no title), "Thread:", "Tweet
    # (friendly tone):" (a numbered "Tweet 1:" starts a thread's part: not here)
    rf"|\[(?:tweet|post|reply|thread|draft)\]|title\s*:[^\n]{{0,100}}"
    rf"|\(?(?:reply(?:ing)? to|in reply to|responding to|response to)\s+@\w+\)?\s*:?"
    rf"|(?:(?:suggested|possible|proposed|sample|alternative|draft)\s+)?(?:(?:x|twitter)\s+)?"
    rf"(?:tweet|post|reply|thread|draft|response)"
    rf"(?:\s+(?:draft|idea|option|version|text))?\s*(?:\([^)\n]{{0,40}}\))?\s*:?"
    rf"|try this one\s*:|how about this(?: one)?\s*[:?]"
    # "Something like this could work:", "This might work:"
    rf"|(?:something like )?(?:this|that)(?: one)? (?:could|would|might|should|may) (?:work|do)(?: well)?\s*:"
    rf"|{_INTERJECTION}[!.:]*)\s*$",
    re.IGNORECASE,
)
# A lead line whose chat ends in the announcement: "Great topic! Sleep debt is real. Here's a tweet:", "I can't
# verify specific statistics, but here's a general tweet:". The announcement closes the line, so the whole line goes.
_ANNOUNCEMENT_END = re.compile(
    rf"(?:^|[.!?,;]\s+|\bbut\s+|\bso\s+)(?:{_HERE}|below are)\b[^\n.!?:]{{0,100}}?\b{_CONTENT_NOUN}\b"
    rf"[^\n.!?:]{{0,80}}:\s*$"
    # "… so a supportive reply would work well. Here's one:" (the sentences before it are the model's too)
    rf"|[.!?]\s+(?:here(?:'s| is) (?:one|mine|it|my (?:attempt|take|version))|here you go)\s*:\s*$",
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
    rf"|my (?:reply|tweet|post|answer|response)(?: would be)?"
    rf"|(?:a|one) (?:good|solid|possible|short|simple|natural|friendly|great|better)"
    rf" (?:reply|tweet|post|response|answer) (?:would|could|might) be"
    rf"|\(?(?:replying to|in reply to|responding to|reply to) @\w+\)?"
    rf"|(?:draft|suggested) (?:reply|tweet|post))\s*(?::|→|->)\s+",
    re.IGNORECASE,
)
# A bare label in front of the content: "Tweet:", "Post 1:", "Option 2 -", "Final draft:", "Reply:".
_LABEL = re.compile(
    r"^\s*(?:\*\*|\[)?(?:(?:final|revised|rewritten|new|suggested|possible|proposed|sample|alternative|draft"
    # "Supportive reply:", "Friendly response:" (a post's own "Pinned post:" stays)
    r"|[a-z]+(?=\s+(?:reply|response)\b)|your)\s+)?"
    r"(?:tweet|post|reply|draft|caption|option|version|answer|response|hook|body|cta|call to action|"
    # "Thread: how I fixed my sleep" is a thread's own hook, "**thread:** 1. …" a label over its numbered parts
    r"output|thread(?=\s*(?:\*\*)?\s*:\s*(?:\*\*)?\s*\(?\d)|point(?=\s*#?\d))"
    r"(?:\s+(?:draft|idea|option|version|text|to (?:the |this |their )?(?:tweet|post)))?"
    # a hyphen only as a dash with space before it: "Post-workout meals" and "Body-weight squats" are the text
    # "Draft reply v2:", "[REPLY]:"
    r"(?:\s*#?\d{1,2}|\s+v\d{1,2})?(?:\s*\([^)\n]{0,40}\))?\s*(?:\*\*|\])?(?::|\s+-|\s*[–—→])\s*(?:\*\*)?\s*",
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
    r"\n[ \t]*(?:(?:-{3,}|\*{3,}|_{3,})[ \t]*)?\n[ \t]*(?:\*\*|__|\*|_)?(?:explanation|rationale|breakdown"
    r"|key (?:points|elements|features)|alternative(?: version| option| take)?|alt(?: version)?"
    # the alternative on a line of its own or in quotes ("Alternatively: nap before 3 pm." is a post's own)
    r"|alternatively(?=(?:\*\*|__)?\s*:(?:\*\*|__)?[ \t]*(?:\n|[\"“]))"
    r"|or,? (?:shorter|longer|simpler|punchier|snappier|more (?:casual|formal|playful|concise)"
    r"|an? (?:shorter|longer|simpler|punchier|casual) (?:one|version))"
    r"|reasoning|my (?:reasoning|thinking|approach|strategy)"
    # notes under the text, as a list under their label ("**Notes:**\n- Kept it short")
    r"|notes?(?=(?:\*\*|__)?\s*:(?:\*\*|__)?[ \t]*\n)"
    r"|another (?:option|version|take)|or|(?:engagement|posting|publishing|formatting) (?:tips|notes|strategy)"
    r"|disclaimer"
    r"|why (?:it|this) works(?=(?:\*\*|__)?\s*:(?:\*\*|__)?[ \t]*\n)"
    r"|why (?:it|this) works(?=(?:\*\*|__)?\s*:[^\n]{0,160}\b(?:hook|tweet|post|reply|readers?|engag\w*|tone|"
    r"format|characters?|cta|call to action|punchy|concise|scroll\w*|takeaway|opens? with|ends? with|sentences?|"
    r"structure|wording|phrasing|emoji|hashtags?)\b))"
    r"(?:\s*\([^)\n]{0,30}\))?(?:\*\*|__)?\s*:",
    re.IGNORECASE,
)
_TRAILING_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_EMPHASIS = re.compile(r"[*_]{1,3}")


# ---------------------------------------------------------------- talk about the writing, at the answer's edges
#
# The rules above name phrasings, and each blind probe found new ones (README, Planner, "Chat around the text"). What
# every such phrasing shares is what it talks about: the request, the requester or the writing itself, not the
# niche. A paragraph at either end of the answer (with another one left) is taken for chat when it says something
# only a model says to the person who asked (``_TO_THE_REQUESTER``), or when it opens as chat does and names two
# of the writing's own things (``_CRAFT``: tone, hook, audience, limit, tweet, …); a niche post that talks of those
# (a growth niche's "Your hook matters more than your hashtags.") opens as content does and stays.
_TO_THE_REQUESTER = re.compile(
    r"\b(?:the user|let me think|let me know if you(?:'d| would)? (?:like|want|need|prefer)|"
    r"let'?s (?:craft|draft|write|think)|(?:encourage|remind|tell|ask) (?:your |the )?(?:followers|readers|audience)|"
    r"i need to (?:write|craft|draft|create|come up with|keep|make)|"
    r"hope (?:this|that|it) (?:helps|works|fits|lands|resonates)|i hope (?:this|that|it)|feel free|"
    r"would you like me|would you like (?:a|an|another)\b[^?\n]{0,40}\b(?:version|option|take|variation|draft)|"
    r"(?:want|like) me to|do you want me|(?:should|shall) i (?:make|add|change|adjust|shorten|try|write|tweak)|"
    r"i can (?:also|adjust|make|tweak|shorten|change|rework|try|give|punch|write)|happy to (?:adjust|tweak|revise)|"
    r"you (?:may|might|could) (?:also )?(?:want to )?(?:also )?add\b|"
    r"(?:character|word|char) counts?|\d+\s*(?:characters|chars)\b|(?:suggested|recommended|optional) hashtags|"
    r"image (?:suggestion|idea|prompt))\b",
    re.IGNORECASE,
)
# What is said of the text after it ("This tweet works because …", "This keeps it under …"); at the start of an
# answer it may be the content's own lead ("This thread gives you five tools …"), so only there.
_ABOUT_THE_TEXT = re.compile(
    r"\b(?:(?:this|the|my|that) (?:tweet|post|reply|draft|thread|response|caption|version|hook) (?:works|uses|keeps|"
    r"stays|fits|avoids|agrees|balances|combines|highlights|targets|aims|opens with|ends with|leads with|"
    r"is designed|invites|encourages|sparks|drives|grabs|appeals|leverages|poses|speaks to|taps into|"
    r"creates (?:curiosity|urgency|engagement|a sense))|"
    r"this (?:one )?(?:works|reads|lands) (?:because|well)|(?:this|it) adds value|"
    # "Why this works: it adds value without being salesy." (not "Why it works: light resets your clock.")
    r"why this (?:one |tweet |post |reply |thread |version |hook )?(?:works|lands)|"
    r"this keeps (?:it|the (?:tone|reply|post|tweet)) (?:short|supportive|friendly|concise|personal|punchy|"
    r"positive|light|warm|conversational|casual|under|within)|"
    r"i kept (?:it|this|the (?:tweet|post|reply|tone))|(?:add|attach|include|pair (?:it|this) with) (?:a|an) "
    r"(?:photo|image|picture|gif|video|visual|chart|graphic))\b",
    re.IGNORECASE,
)
_CRAFT = re.compile(
    r"\b(?:tone|punchy|engaging|concise|conversational|voice|audience|hooks?|hashtags?|emojis?|cta|call to action|"
    r"limit|medical claims?|angle|versions?|alternatives?|options?|drafts?|tweets?|posts?(?!-)|repl(?:y|ies)|"
    r"response|threads?|caption|playful|scroll[- ]?stopping|relatable|shareable|actionable|stats?|readers?|"
    r"followers|topic)\b",
    re.IGNORECASE,
)
_ECHOED_REQUEST = re.compile(
    r"^\W*(?:write|create|draft|compose|generate)\s+(?:a|an|one|the|me|\d+)\b[^\n]{0,80}?\b(?:posts?|tweets?|"
    r"repl(?:y|ies)|threads?)(?![\w-])",
    re.IGNORECASE,
)
# A note in brackets under the text, not a sentence of it: "(Friendly, supportive, adds value)".
_ANNOTATION = re.compile(r"^\W*\([^()\n.!?]{1,80}\)\W*$")
_CHAT_OPENING = re.compile(
    r"^\W*(?:sure|okay|ok|alright|of course|certainly|absolutely|great|perfect|got it|understood|here|below|"
    r"i\b|i'|this\b|it\b|that\b|these\b|why\b|note|hmm|so\b|now\b|the above|my\b|feel|let)",
    re.IGNORECASE,
)
# The same things said after the text on its own line or in a bracket: "(Word count: 14)", "[Add a photo of an
# alarm clock]", "“…” — a tweet for gut health week". One word of the writing is enough there.
_ARTIFACT = re.compile(
    r"\b(?:tweet|post(?!-)|repl(?:y|ies)|thread|draft|caption|version|option|hashtags?|emojis?|photo|image|visual|"
    r"gif|graphic|characters|chars|word count|tone|suggestions?|my (?:pick|take|attempt|version))\b",
    re.IGNORECASE,
)
_TRAILING_ASIDE = re.compile(r"\s*(?:[(\[]([^()\[\]\n]{1,160})[)\]]|(?<=[”’\"])\s*[—–-]\s*([^\n]{1,120}))\s*$")
# A line of its own under the text that says what the text is: "Hashtags: …", "Tone: friendly", "Length: 72
# characters", "Image suggestion: …" (a post's own "Source: …" stays: the claims gate reads it).
_METADATA_LINE = re.compile(
    r"^\s*(?:suggested |recommended |optional )?(?:hashtags?|tags|tone|length|format|style|word counts?|characters|"
    r"character counts?|char counts?|image(?: suggestion| idea)?|visual|media|alt text|target audience|audience|goal|"
    r"posting time|best time to post)\s*(?:\([^)\n]*\))?\s*:",
    re.IGNORECASE,
)
# What only the person who asked is told, as the answer's first sentence: "Got it.", "Happy to!", "Great topic!"
# ("Absolutely." and "Great point!" are also a reply's own agreement with the tweet: not here).
_ACKNOWLEDGEMENT = re.compile(
    r"^\s*(?:understood|got it|happy to(?: help)?|will do|i can (?:write|do) (?:that|this)(?: for you)?|"
    r"here we go|here goes|coming (?:right )?up|(?:great|good|fun|interesting|nice) (?:topic|prompt|request)|"
    r"love (?:this|that) (?:topic|idea|prompt)|sure thing|no problem|gladly|with pleasure|you got it|on it)"
    r"\s*[!.:]+\s+(?=\S)",
    re.IGNORECASE,
)
# Markup a model puts around the whole answer: "<tweet>…</tweet>", "<post>…</post>".
_WRAPPING_TAG = re.compile(r"^\s*<([a-z][\w-]{0,20})>\s*(.*?)\s*</\1>\s*$", re.IGNORECASE | re.DOTALL)


# A reasoning model's plan as the first paragraph ("Plan: hook with a claim, …", "Approach: …").
_PLAN = re.compile(r"^\W*(?:plan|approach|strategy|outline|structure|thinking|reasoning|analysis|"
                   r"(?:original|their|the|quoted) (?:tweet|post)|replying to|in reply to)\s*:", re.IGNORECASE)
# What a model writes between its thinking and its answer: everything above it was the thinking.
_FINAL_LABEL = re.compile(
    r"(?im)^[ \t]*(?:\*\*|#{1,6}[ \t]*)?(?:(?:final|finished) (?:post|tweet|reply|thread|answer|version|draft|output)"
    r"(?:\*\*)?[ \t]*:?|(?:post|tweet|reply|answer|response|output)(?:\*\*)?[ \t]*:)(?:\*\*)?[ \t]*$"
)


# Function words of the languages multilingual models fall back to; the niche's language is English.
_ENGLISH_WORDS = frozenset(
    "the an to and of is are you your it in for on that this with be my me we was not but or at as".split())
_OTHER_WORDS = frozenset(
    "el la los las una un es que de del por para con aquí tienes quieres lo otro espero te "
    "der die das ein eine ist ich hier auf den dem mit und nicht hoffe gerne möchtest "
    "le les une est je voici pour avec vous et espère ça "
    "o os um uma é aqui está você para com espero "
    "il una è ecco per con spero".split())


def _in_another_language(said: str) -> bool:
    """Chat in another language than the text's: no Latin letters at all, or another language's function words
    and no English ones."""
    if not re.search("[A-Za-z]", said):
        return sum(ch.isalpha() for ch in said) >= 2
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", said)]
    return sum(w in _OTHER_WORDS for w in words) >= 2 and not any(w in _ENGLISH_WORDS for w in words)


def _talks_about_the_writing(paragraph: str, *, lead: bool) -> Literal["chat", "announcement"] | None:
    """"chat" for what only a model says (to the requester, of its plan, of the text after it, in another
    language); "announcement" for a paragraph that opens as chat does and names two of the writing's things
    ("Here's something punchy for your audience"); None for the text's own."""
    said = _as_read(strip_chat_inline(paragraph))  # a part's own aside ("… [84 chars]") is cut from it later
    # the model's chat in another of its languages ("好的，以下是回复：", "Ich hoffe, das hilft!")
    if _in_another_language(said) or _TO_THE_REQUESTER.search(said) or (
            _ECHOED_REQUEST.match(said) or _PLAN.match(said) if lead
            else _ABOUT_THE_TEXT.search(said) or _ANNOTATION.match(said)):
        return "chat"
    craft = {m.group(0).lower().rstrip("s") for m in _CRAFT.finditer(said)}
    if len(craft) >= 2 and _CHAT_OPENING.match(said) is not None and (lead or not said.endswith("?")):
        return "announcement"
    return None


# A list of sources under the text ("Sources:\n1. Smith et al., 2020", "[1] Buffey et al., Sports Med 2022"): a
# tweet carries none, and the model's are often invented (a post's own line "Sources: WHO, NHS" stays: the
# claims gate reads it).
_REFERENCES = re.compile(r"^\W*(?:sources|references|citations|footnotes)\s*:[ \t]*\n|^\s*\[\d{1,2}\][ \t]+\S",
                         re.IGNORECASE)


def _edge_is_chat(paragraph: str, *, lead: bool) -> Literal["rule", "chat", "announcement"] | None:
    """A rule line between the chat and the text ("Here's a post:\n\n---\n\n…"), or talk about the writing, or
    a list of sources under it; a numbered part ("Tweet 2/4 (65 chars)\n…") is a thread's, whatever its label
    says."""
    if _HRULE.match(paragraph) or _TRAILING_SEPARATOR.match(paragraph):
        return "rule"
    if not lead and _REFERENCES.match(paragraph):
        return "chat"
    return None if _MARKER.match(paragraph) else _talks_about_the_writing(paragraph, lead=lead)


def strip_chat_paragraphs(text: str) -> str:
    """The answer without the paragraphs at either end that talk about the writing (``_talks_about_the_writing``)
    and without the metadata lines under it (``_METADATA_LINE``); at least one paragraph stays."""
    text = _unwrapped(text)
    finals = [m for m in _FINAL_LABEL.finditer(text) if text[:m.start()].strip()]
    if finals and text[finals[-1].end():].strip():
        text = text[finals[-1].end():]
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text.strip()) if p.strip()]
    while len(paragraphs) > 1 and (kind := _edge_is_chat(paragraphs[0], lead=True)):
        # An announcement with the text after its colon ("Here's a draft tweet for you: Keep this in mind: …")
        # is left to the line rules below, which cut the announcement alone.
        if kind == "announcement" and re.match(r"[^\n:]*:[ \t]*\S", paragraphs[0]):
            break
        paragraphs.pop(0)
    while len(paragraphs) > 1 and _edge_is_chat(paragraphs[-1], lead=False):
        paragraphs.pop()
    lines = "\n\n".join(paragraphs).splitlines()
    while len(lines) > 1 and _METADATA_LINE.match(_as_read(lines[-1])):
        lines.pop()
    return _unwrapped("\n".join(lines))


def _unwrapped(text: str) -> str:
    """The text inside one tag around all of it ("<post>…</post>"); parts each in a tag of their own stay."""
    tag = _WRAPPING_TAG.match(text)
    return tag.group(2) if tag is not None and f"<{tag.group(1).lower()}>" not in tag.group(2).lower() else text


# The prompt's own numbering of its facts, cited in the text: "(Source: provided fact [2])", "…, per fact 1",
# a footnote mark "[1]" after a word (the facts are listed "[1] …" in the prompt; a reader has no list).
_FACT_REFERENCE = re.compile(
    r"\s*[(\[](?:source:\s*)?(?:the\s+)?(?:provided\s+|given\s+)?facts?\s*#?\[?\d{1,2}\]?[)\]]"
    r"|,?\s+(?:per|from|see|as in|according to)\s+(?:the\s+)?(?:provided\s+|given\s+)?fact\s*#?\[?\d{1,2}\]?"
    r"(?=[\s.,;:!?)]|$)|(?<=\S)[ \t]*\[\d{1,2}\](?=[\s.,;:!?)]|$)",
    re.IGNORECASE,
)


def strip_chat_inline(text: str) -> str:
    """A first sentence only the requester is told ("Got it. …"), the prompt's fact numbers cited in the text, and
    an aside after the text that names the writing ("(Word count: 14)", "[Add a photo …]", "— a tweet for gut
    health week")."""
    text = _FACT_REFERENCE.sub("", _ACKNOWLEDGEMENT.sub("", text, count=1))
    aside = _TRAILING_ASIDE.search(text)
    if aside is not None and aside.start() > 0:
        said = _as_read(aside.group(1) or aside.group(2))
        if _ARTIFACT.search(said) or _TO_THE_REQUESTER.search(said) or _ABOUT_THE_TEXT.search(said):
            text = text[: aside.start()]
    return text


def _as_read(line: str) -> str:
    """A line as the preamble and closing rules read it: one apostrophe, no emoji ("Certainly! 😊", "(Under 280
    characters ✅)"), no emphasis or heading marks ("**Character count:** 96", "### Reply")."""
    return _HEADING.sub("", _EMPHASIS.sub("", _EMOJI.sub("", line.translate(APOSTROPHES)))).strip()


# A heading that names the text over it ("# Caffeine post", "### Hydration Thread 💧", "## Thread: Gut health"):
# the heading marks are what tell it from a post's own first line ("Caffeine post-workout?" is a question).
_TITLE = re.compile(r"^\s*#{1,6}\s*(?:[\w'-]+\s+){0,4}(?:post|tweet|thread|reply|draft)s?\b(?!-)[^\n]{0,60}$",
                    re.IGNORECASE)


def _is_lead(line: str) -> bool:
    return bool(_PREAMBLE_LINE.match(line) or _ANNOUNCEMENT_END.search(line) or _LEADING_NOTE.match(line))


# "**Thread:** How I fixed my sleep": X shows no Markdown, so a thread label in emphasis is the model's label over the
# thread, not its hook's own word (the plain "Thread: how I fixed my sleep" stays: _LABEL).
_EMPHASISED_THREAD_LABEL = re.compile(r"^\s*(\*\*|__)\s*thread\s*(?::\s*\1|\1\s*:)[ \t]*(?=\S)", re.IGNORECASE)


# ---------------------------------------------------------------- the edges, by their shape
#
# The rules above name phrasings and stop at the first line they do not know, so one unknown lead ("Alright, here
# goes:", "Certainly. Draft follows.") shielded the label, the quotes and the chat behind it (an audit with a
# stand-in model queued 18 % of its texts with such chat). What a lead does, whatever its words: it is short, it
# stands alone over the text, and it hands the text over (the writer's own act, the request, the text as a thing
# given) or opens as chat does and announces with a colon. A hook has the same shape ("Here's the thing:",
# "Here's why:", "5 things I learned about sleep:") but talks of the subject, so none of these marks it.
LEAD_MAX_WORDS = 12
# Handing the text over: the writer's act of writing, the request, "here goes", what follows pointed at.
_HANDS_OVER = re.compile(
    r"\bi(?:'ve|'d|'m| have| would| just)?(?: \w+)? (?:drafted|wrote|written|made|put together|came up with|think|"
    r"hope|went with|tried|kept|chose|picked|crafted|created|prepared)\b"
    r"|\byou(?:'ve)? (?:asked|requested|wanted)\b|\byou'll find\b|\bhere (?:goes|you (?:are|go))\b|\bfollows\b"
    r"|^\W*below\b|\bthis one (?:should|could|might|will|would|ought)\b",
    re.IGNORECASE,
)
# The text named as a thing handed over ("Your post →", "Draft:", "Here's a thread in your voice:").
# The noun with its article or at the start ("I post this every year:" is a hook).
_THE_TEXT = re.compile(r"(?:^\W*|\b(?:a|an|the|your|my|this|that|one)\s+(?:[\w'-]+\s+){0,3}?)"
                       r"(?:tweets?|posts?(?!-)|threads?|repl(?:y|ies)|drafts?|captions?|versions?)\b", re.IGNORECASE)
_CHAT_FIRST_WORD = re.compile(rf"^\W*{_INTERJECTION}\s*[!.,;:—–-]", re.IGNORECASE)
# Ends as an announcement: a colon, an arrow or a dash, perhaps with an emoji pointing down.
_ANNOUNCES = re.compile(r"[:→—–-]\W*$")


def _is_lead_paragraph(paragraph: str) -> bool:
    """A short paragraph that hands the text under it over (``_HANDS_OVER``), or names the text and announces it
    or opens as chat does."""
    said = _as_read(paragraph)
    if len(said.split()) > LEAD_MAX_WORDS or not said:
        return False
    announces = _ANNOUNCES.search(said) is not None or _CHAT_FIRST_WORD.match(said) is not None
    return bool(_HANDS_OVER.search(said) or (_THE_TEXT.search(said) and announces))


# What follows the text that talks to the requester about it, not to readers: more drafts offered ("Want a few
# more variations? Just say the word."), the text's fit ("tweak it to fit your voice"), or a disclaimer of the
# answer itself ("This is not medical advice.": a post that needs one is rewritten, not signed off).
_ABOUT_THE_DRAFT = re.compile(
    r"\b(?:(?:a few|some|more|another|other|different|alternative|extra)(?: more)? "
    r"(?:variations?|versions?|options?|drafts?|takes?|ideas)|(?:tweak|adjust|edit|adapt) (?:it|this|the wording)"
    r"|(?:fit|match|suit) your (?:voice|tone|style|brand|audience)|say the word)\b"
    r"|\bnot (?:intended as |meant as |a substitute for )?(?:medical|professional|health|financial) advice\b"
    r"|\bfor (?:informational|educational) purposes\b",
    re.IGNORECASE,
)
CLOSING_MAX_WORDS = 25


def _is_closing_paragraph(paragraph: str) -> bool:
    said = _as_read(paragraph)
    return len(said.split()) <= CLOSING_MAX_WORDS and _ABOUT_THE_DRAFT.search(said) is not None


# A header over a thread, not its hook: "A thread", "THREAD 🧵", "🧵 Thread:", "Thread below 👇".
_THREAD_HEADER = re.compile(r"^\W*(?:a |my |this )?(?:short |quick )?thread(?: below| time)?\W*$", re.IGNORECASE)


def _quoted_paragraph(text: str) -> str:
    """The one paragraph wholly in quotes when what is around it is a short paragraph at either end (chat this
    module has no rule for): the model presented its answer as a quotation. Quotes inside a post ("My coach
    said:\n\n“Sleep first.”\n\nShe was right.") hold less of it and stay."""
    paragraphs = _paragraphs(text)
    quoted = [i for i, p in enumerate(paragraphs) if strip_wrapping_quotes(p) != p.strip()]
    if len(paragraphs) < 2 or len(quoted) != 1 or quoted[0] > 1 or len(paragraphs) - quoted[0] > 2:
        return text
    inside = paragraphs[quoted[0]]
    outside = [p for i, p in enumerate(paragraphs) if i != quoted[0]]
    if any(len(p.split()) > LEAD_MAX_WORDS for p in outside) or len(inside.split()) < 2 * sum(
            len(p.split()) for p in outside):
        return text
    return inside


def _strip_edges(text: str) -> str:
    """One round of every rule for the answer's edges (see strip_preamble)."""
    lines = strip_chat_paragraphs(strip_wrapping_quotes(strip_ai_disclaimer(text))).splitlines()
    while lines and (not lines[0].strip() or _is_lead(_as_read(lines[0])) or _TITLE.match(lines[0])
                     or _THREAD_HEADER.match(_as_read(lines[0]))
                     or _HRULE.match(lines[0]) or _TRAILING_SEPARATOR.match(lines[0])):
        lines.pop(0)
    while len(lines) > 1 and (not lines[-1].strip() or _HRULE.match(lines[-1])
                              or _TRAILING_SEPARATOR.match(lines[-1]) or _CLOSING_LINE.match(_as_read(lines[-1]))):
        lines.pop()
    paragraphs = _paragraphs("\n".join(lines))
    if len(paragraphs) > 1 and _is_lead_paragraph(paragraphs[0]) and not _MARKER.match(paragraphs[0]):
        paragraphs.pop(0)
    # The quotes may close after the chat under the text ("«…\n\n*This is not medical advice.*»"), and the
    # hashtags come after the chat ("Note: consult your doctor …\n\n#HealthTips #SelfCare"): both go first.
    paragraphs = _paragraphs(strip_hashtag_run(strip_wrapping_quotes("\n\n".join(paragraphs))))
    while len(paragraphs) > 1 and _is_closing_paragraph(paragraphs[-1]):
        paragraphs.pop()
    return _without_unclosed_quote(_quoted_paragraph(_unwrapped("\n\n".join(paragraphs))))


def _without_unclosed_quote(text: str) -> str:
    """The text without an opening quote nothing in it closes: the model's quotes around its answer, whose closing
    one went with the chat inside them ("“…\n\nFeel free to tweak it.”")."""
    t = text.strip()
    if t[:1] in _OPEN_QUOTES and t[:1] not in "'`" and not any(c in t[1:] for c in _CLOSE_QUOTES if c not in "'’`"):
        return t[1:].lstrip()
    return text


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", text.strip()) if p.strip()]


def strip_preamble(text: str) -> str:
    # The patterns are written with ' and read the text with its typed apostrophes as ' ("Here’s a tweet:"); a
    # closing line may be set in emphasis ("*Note: …*"). A tag around the whole answer goes first: cut with the
    # explanation inside it, its closing tag went too and "<reply>" stayed on the text.
    text = _EMPHASISED_THREAD_LABEL.sub("", _unwrapped(text), count=1)
    if m := _EXPLANATION.search(text):
        text = text[: m.start()]
    # Each rule stops at what it does not know (a lead over a label over quotes: "I think this captures it:\n\n
    # Caption:\n\n«…»"), so they run together until nothing changes; each only removes, so a few rounds at most.
    for _ in range(8):
        before, text = text, _strip_edges(text)
        if text == before:
            break
    out = text
    # A label ("Tweet:", "Post 1:") is removed per part (clean_part): in a thread it marks where parts start.
    inline = _PREAMBLE_INLINE.match(out.translate(APOSTROPHES))
    if inline is None:
        return out
    rest = out[inline.end():]
    # "I'd say: most of it comes in two weeks" starts a sentence once its lead is gone ("iPhone" keeps its case).
    return rest[:1].upper() + rest[1:] if rest[:2].islower() else rest


# ---------------------------------------------------------------- Markdown

_HRULE = re.compile(r"^\s*(?:\*{3,}|_{3,}|={3,}|[—–]+)\s*$")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")
_ITALIC_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)[^*_\n]+\1\s*$")
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
    r"(?:tweet|part|post)\s*\d{1,2}(?:\s*(?:/|of)\s*\d{1,2})?(?:\s*\([^)\n]{0,20}\))?\s*[:.)\-–—]?|"
    r"\(\d{1,2}\)(?=\s)|\[(?:(?:tweet|part|post)\s*)?\d{1,2}(?:\s*/\s*\d{1,2})?\](?=\s)|"
    r"(?:first|second|third|fourth|fifth|sixth)\s+(?:tweet|part|post)\s*[:.\-–—]?|"
    r"(?:tweet|part|post)\s+(?:one|two|three|four|five|six)\s*[:.\-–—])\s*",
    re.IGNORECASE,
)
_NUMBER_PREFIX_SINGLE = re.compile(r"^\s*\(?\d{1,2}\s*/\s*\d{1,2}\)?[:.)]?\s+")
# A part that is a numbered list of its own ("1. Insulin sensitivity falls.\n2. Keep wake times steady."): its
# "1." is the list's, not the part's number, and taking it left "2." alone in a part.
_LIST_IN_PART = re.compile(r"(?s)^\s*1[.)]\s.*\n[ \t]*2[.)]\s")
_NUMBER_SUFFIX = re.compile(r"\s*[(\[]?\d{1,2}\s*/\s*\d{1,2}[)\]]?\s*$")
# A count after the text on its line: '"…" — 212 characters', "… (212 chars)".
_COUNT_SUFFIX = re.compile(r"\s*(?:(?:[—–-]|\()\s*~?\d{1,3}\s*(?:characters|chars|words)\s*\)?"
                           # "(36/220)": the count against the limit asked
                           r"|\(\s*\d{1,3}\s*/\s*(?:2\d\d|280)\s*(?:characters|chars)?\s*\))\s*$", re.IGNORECASE)
_OPEN_QUOTES = "\"“”'‘«„`"
_CLOSE_QUOTES = "\"”“'’»`"
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U0001F1E6-\U0001F1FF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D\u20E3]"
)
_EMOJI_BEFORE_MARK = re.compile(rf"[ \t]+(?:{_EMOJI.pattern})+(?=[.,!?;:])")
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


# An emoji that stands for a word, after an article or a preposition and before more words ("Grab a 🍎 before the
# gym"): without it the sentence breaks ("Drop a below with your take!" was queued), so it stays.
_EMOJI_AS_WORD = re.compile(r"(?i)(\b(?:a|an|the|your|my|our|some|no|of|with|for|to|in|on)[ \t]+)"
                            rf"((?:{_EMOJI.pattern})+)(?=[ \t]+\w)")
_HELD = "\ue000"


def strip_emoji(text: str) -> str:
    # "what you eat 🦠." becomes "what you eat.", not "what you eat ."
    held = [m.group(2) for m in _EMOJI_AS_WORD.finditer(text)]
    text = _EMOJI_AS_WORD.sub(lambda m: m.group(1) + _HELD, text)
    text = _EMOJI.sub("", _EMOJI_BEFORE_MARK.sub("", text))
    return re.sub(_HELD, lambda _: held.pop(0), text)


# A last sentence that asks readers to engage with the post rather than saying anything ("Save this for later.",
# "RT if you agree.", "Drop a 👇 below with your take!"): X ranks such bait down. Each verb with what makes it bait
# ("Follow it for a month." and "Share a meal with friends." are advice).
_ENGAGEMENT_BAIT = re.compile(
    r"(?:(?<=[.!?)\"”])|^)[ \t]*(?:"
    r"(?:save|bookmark|rt|retweet|repost|like|share)[ \t]+(?:this|it)\b|(?:rt|retweet|repost|like|share|follow)[ \t]+if"
    r"[ \t]+you\b|follow[ \t]+(?:me[ \t]+|us[ \t]+)?for[ \t]+more\b|tag[ \t]+(?:someone|a[ \t]+friend)\b"
    r"|(?:drop|comment|reply|share)\b[^.!?\n]{0,40}\b(?:below|your[ \t]+(?:take|thoughts))\b)"
    r"[^.!?\n]*[.!?]*(?=[ \t]*(?:#\w+)?\s*$)",
    re.IGNORECASE,
)


def strip_engagement_bait(text: str) -> str:
    m = _ENGAGEMENT_BAIT.search(text)
    return text if m is None or not text[: m.start()].strip() else text[: m.start()] + text[m.end():]


def strip_hashtag_run(text: str) -> str:
    return _HASHTAG_RUN.sub("", text)


_WORD = re.compile(r"[\w%]+(?:['’][\w]+)?")
# Shorter repeats can be the writer's: "Sleep. Sleep. Sleep." as a cadence.
MIN_REPEATED_WORDS = 4


def drop_repeated_sentences(text: str) -> str:
    """``text`` without a sentence that says again, word for word, what an earlier sentence ended with: a model's
    decoding that loops ("most hydration hacks are overrated. most hydration hacks are overrated."), also after a
    label ("Unpopular opinion: most … overrated. most … overrated.": a queued post of the demo). Case, punctuation
    and spacing aside; sentences of fewer than MIN_REPEATED_WORDS words are left."""
    kept: list[str] = []
    seen: list[list[str]] = []
    for line in text.split("\n"):
        start, pieces = 0, []
        for end in [*sentence_ends(line), len(line)]:
            piece, start = line[start:end], end
            words = _WORD.findall(piece.lower().translate(APOSTROPHES))
            if len(words) >= MIN_REPEATED_WORDS and any(w[-len(words):] == words for w in seen):
                continue
            if words:
                seen.append(words)
            pieces.append(piece)
        kept.append("".join(pieces).rstrip() if pieces else "")
    return _without_echo("\n".join(kept))


def _without_echo(text: str) -> str:
    """``text`` without the words it ends with said twice back to back, where no sentence end parts them ("Data:
    WHO, Mental health, 2022 data: WHO, Mental health, 2022", a loop after a citation line: queued in a benchmark
    run). At least MIN_REPEATED_WORDS words, case and punctuation aside."""
    words = list(_WORD.finditer(text))
    said = [w.group(0).lower().translate(APOSTROPHES) for w in words]
    for n in range(len(said) // 2, MIN_REPEATED_WORDS - 1, -1):
        if said[-n:] == said[-2 * n:-n]:
            tail = text[words[-1].end():]
            end = tail[: len(tail) - len(tail.lstrip(".!?"))]  # the text's own full stop stays
            return text[: words[-n].start()].rstrip(" \t,;:—–-") + end
    return text


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
    # "… I can share that <the text>" (not "… policies that prevent me from …": the refusal gate's to read)
    # "…, but:" over the text: the colon goes with the clause (it was left as a line of its own)
    r"(?:,?[ \t]*\bbut\b(?:[ \t]*here(?:'s| is| are)\b[^\n:]{0,60}:|[ \t]*:)?"
    r"|\b(?:share|say|note|add|tell you) that\b|:)[ \t]*"
    # What only a model says of itself, then the text: "I'm not able to browse the internet, but here's a general
    # tweet: …", "I can't verify specific statistics, but here's one: …" (the "but" form only).
    r"|^[ \t]*i(?:'m| am)? (?:not able to|unable to|can(?:not|'t)) (?:(?:browse|access) (?:the internet|the web|"
    r"real-time|current|live)|(?:verify|check|confirm) "
    r"(?:specific |exact |the |these |any |current |recent |the latest )?(?:statistics|stats|"
    r"numbers|figures|data|sources|facts|studies|research|claims))\b"
    r"[^\n.!?:]{0,80}?,?[ \t]*\bbut\b(?:[ \t]*here(?:'s| is| are)\b[^\n:]{0,60}:|[ \t]*:)?[ \t]*"
)


def strip_ai_disclaimer(text: str) -> str:
    m = _AI_LEAD.search(text.translate(APOSTROPHES))
    if m is None or len(re.findall(r"\w+", text[m.end():])) < 2:  # no post after it: the refusal gate reads it whole
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


# A mention the model wrote as a placeholder in front of a reply ("@username Love this."): X addresses the reply.
_PLACEHOLDER_MENTION = re.compile(
    r"^\s*\[?@(?:username|user|handle|author|name|op|original_?poster|someone|them|poster)\]?\b[,:]?\s*",
    re.IGNORECASE,
)


def clean_part(text: str, *, in_thread: bool = False) -> str:
    """One tweet's text: everything above but splitting. Habits nest in any order ("5/ - point", "**1/5**",
    quotes around a hashtag run or inside it, '"(3/3) - point"': the quotes hide the numbering, which hides the
    bullet), so the steps run until nothing changes (each is idempotent; a few rounds at most)."""
    text = decoded(text)
    numbering = _NUMBER_PREFIX_THREAD if in_thread and not _LIST_IN_PART.match(text) else _NUMBER_PREFIX_SINGLE
    t = text
    for _ in range(5):
        before = t
        t = without_post_title(t, under=1) if in_thread else t
        t = _tidy(strip_emoji(strip_markdown(strip_chat_inline(strip_ai_disclaimer(_PLACEHOLDER_MENTION.sub("", t))))))
        t = numbering.sub("", _LABEL.sub("", strip_formula_labels(t), count=1), count=1)
        t = _NUMBER_SUFFIX.sub("", strip_wrapping_quotes(_COUNT_SUFFIX.sub("", t)))
        t = drop_repeated_sentences(strip_engagement_bait(strip_hashtag_run(t))).strip()
        if t == before:
            break
    return _tidy(t)


# ---------------------------------------------------------------- whole answers


# Several drafts where one was asked for: "Here are three tweet options:" over a numbered list, or "Option 1: …
# Option 2: …". The first is the answer (a list the model did not announce as drafts is a listicle: kept whole).
_DRAFTS_ANNOUNCED = re.compile(
    rf"^\s*(?:{_INTERJECTION}[!.,]*(?:\s*[—–-])?\s*)?(?:here(?:'s| is| are|'re)|below are|these are|"
    r"i'?ve (?:written|drafted|come up with)|(?:a few|some|several|two|three|four|\d)\b)[^\n]{0,100}?"
    r"\b(?:options|versions|variations|alternatives|drafts|tweets|posts|replies|ideas|suggestions|takes|variants)\b"
    r"[^\n]{0,60}:\s*$",
    re.IGNORECASE,
)
_DRAFT_ITEM = re.compile(
    r"(?im)^[ \t]*(?:\*\*|#{1,6}[ \t]*)?(?:(option|version|draft|tweet|reply|variant|take)[ \t]*#?)?"
    r"([1-9]|(?:(?<=[ \t#])|^)[abc](?=[ \t]*[(:.)*\-–—\n]))(?:\*\*)?"
    # "Option A (punchy):", "**Option 1**" on a line of its own
    r"(?:[ \t]*\([^)\n]{0,40}\))?(?:\*\*)?[ \t]*(?:[.):\-–—](?:\*\*)?[ \t]*|(?<=\S)[ \t]*$\n?)"
)


_LETTER_RANK = str.maketrans("abc", "123")
_DRAFT_NAME = re.compile(r"(?:\*\*)?[A-Z][\w’'-]*(?: [\w’'-]+)?:(?:\*\*)?[ \t]+(?=\S)")
# Drafts as bullets, each perhaps under a short name: "- Supportive: You're not lazy, you're under-slept."
_BULLET_DRAFT = re.compile(r"(?m)^[ \t]*[-*•][ \t]+(?:\*\*)?(?:[A-Za-z][\w’'&/-]*(?: [\w’'&/-]+){0,2}:(?:\*\*)?[ \t]+)?"
                           r"(.+)$")
# Drafts announced as such, each under a name of its own on a line of its own: "**Supportive:**", "Playful:".
_NAMED_DRAFT = re.compile(r"(?m)^[ \t]*(?:\*\*|#{1,6}[ \t]*)?[A-Za-z][\w’'&/-]*(?: [\w’'&/-]+){0,2}:(?:\*\*)?[ \t]*\n")


def _alone_on_its_line(text: str, label: re.Match[str]) -> bool:
    """A draft label with nothing after it on its line ("**Version A**" over the draft); the label's match may
    have taken the line's end with it."""
    return label.group(0).endswith("\n") or not text[label.end():].partition("\n")[0].strip()


# A draft and then its revision ("Draft: …\n\nRevised: …", "Initial draft: … Critique: … Final version: …"), as a
# model that checks its own work answers: the last revision is the answer.
_FIRST_DRAFT_LABEL = re.compile(r"^\W*(?:(?:first|initial|rough|original)\s+(?:draft|version|attempt|take)"
                                r"|draft(?:\s*#?1|\s+v1)?|version\s*#?1|v1)\W*:", re.IGNORECASE)
_REVISION_LABEL = re.compile(
    r"(?im)^[ \t]*(?:\*\*|#{1,6}[ \t]*)?(?:revised|improved|edited|polished|tightened|updated|rewritten|final)"
    r"(?:[ \t]+(?:version|draft|tweet|post|reply|answer|take|text))?(?:[ \t]*(?:#?2|v2))?(?:\*\*)?[ \t]*:"
    r"(?:\*\*)?[ \t]*")


def revised_draft(text: str) -> str:
    """The last revision of an answer that opens with its first draft; any other answer unchanged."""
    if not _FIRST_DRAFT_LABEL.match(_as_read(text.lstrip().partition("\n")[0])):
        return text
    revisions = [m for m in _REVISION_LABEL.finditer(text) if m.start() > 0]
    return text[revisions[-1].end():].strip() if revisions and text[revisions[-1].end():].strip() else text


def first_draft(text: str) -> str:
    """The first of several drafts in an answer that offers them (``_DRAFTS_ANNOUNCED`` over a list numbered from
    1, or items labelled "Option 1", "Option 2"); any other answer unchanged."""
    lines = text.strip().splitlines()
    # The announcement may come after chat of its own ("I'd suggest something like this:\n\nHere are 3 options:").
    while lines and not _DRAFTS_ANNOUNCED.match(_as_read(lines[0])) and (
            not lines[0].strip() or _is_lead(_as_read(lines[0])) or _talks_about_the_writing(lines[0], lead=True)
            or _is_lead_paragraph(lines[0]) and len(lines) > 1):
        lines.pop(0)
    announced = bool(lines) and _DRAFTS_ANNOUNCED.match(_as_read(lines[0])) is not None
    drafts = "\n".join(lines[1:]).strip() + "\n"
    named = list(_NAMED_DRAFT.finditer(drafts)) if announced else []
    if len(named) >= 2 and named[0].start() == 0:
        return drafts[named[0].end(): named[1].start()].strip()
    bullets: list[str] = _BULLET_DRAFT.findall(drafts) if announced else []
    if len(bullets) >= 2 and drafts.lstrip().startswith(("-", "*", "•")):
        return bullets[0].strip()
    # "Version A — <a whole post>\n\nVersion B — <another>": under one label word, each opening a sentence of its
    # own (a post's own "Option A: coffee the second you wake up." lists choices, in lower case)
    items = [m for m in _DRAFT_ITEM.finditer(text)
             if announced or m.group(1) and (m.group(2).isdigit() or _alone_on_its_line(text, m)
                                             or re.match(r"[^\w\n]*[A-Z]", text[m.end():]))]
    rank = [m.group(2).lower().translate(_LETTER_RANK) for m in items]
    first = next((i for i, r in enumerate(rank) if r == "1"), None)
    if first is None or first + 1 >= len(items) or rank[first + 1] != "2" or (
            (items[first].group(1) or "").lower() != (items[first + 1].group(1) or "").lower()):
        return text
    draft = text[items[first].end(): items[first + 1].start()].strip()
    # The rest of the label's line, when it describes the draft: "**Version A – Short & punchy**" over the text.
    label, _, body = draft.partition("\n")
    if body.strip() and len(label.split()) <= 6 and not re.search(r"[.!?]\W*$", _as_read(label)):
        return body.strip()
    # Drafts each under a name of its own: "A) Supportive: …", "B) Informative: …".
    second = text[items[first + 1].end():]
    if (name := _DRAFT_NAME.match(draft)) and _DRAFT_NAME.match(second):
        return draft[name.end():]
    return draft


# What an answer carries of the way it travelled, not of its text: HTML entities ("Sleep &amp; light", "Don&#39;t"),
# a line break as markup or as an escape the JSON layer did not undo ("<br>", a literal "\n"), invisible characters
# (zero-width space, byte-order mark, word joiner) and no-break spaces. X would show each as typed.
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d{1,5}|#x[0-9a-fA-F]{1,4});")
_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ESCAPED_BREAK = re.compile(r"\\n")
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff]")
# Letters and digits set in Unicode's mathematical alphabets ("𝗖𝗹𝗼𝘀𝗲𝘀𝘁", a model's "bold" where Markdown is not
# shown): no word rule or gate reads them as words, and screen readers spell them out.
_MATH_ALPHANUMERIC = re.compile("[\U0001D400-\U0001D7FF]+")


def decoded(text: str) -> str:
    """The text as written: entities unescaped, letters of the mathematical alphabets as letters, escaped and
    tagged line breaks as line breaks, no invisible characters, no-break spaces as spaces."""
    if _ENTITY.search(text):
        text = html.unescape(text)
    text = _MATH_ALPHANUMERIC.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = _ESCAPED_BREAK.sub("\n", _BREAK_TAG.sub("\n", text))
    return _INVISIBLE.sub("", text).replace("\u00a0", " ").replace("\u202f", " ")


_TITLE_FORM = re.compile(r"^[^:.!?\n]{2,40}:\s+[^:.!?\n]{2,40}$")


def _heading_over(text: str) -> tuple[str, str] | None:
    """(heading, the text under it) when the answer's first line is a Markdown heading or a bold line over more
    text, read inside quotes around the whole answer and past an emoji before it ('“### Sleep: what to know\n\n
    …”', "🧠 # Sleep: …": a demo posted both, 2026-12-07); else None."""
    lines = strip_wrapping_quotes(text).splitlines()
    first = _EMOJI.sub("", lines[0]).strip() if lines else ""
    rest = "\n".join(lines[1:]).strip()
    return (first, rest) if rest and (_HEADING.match(first) or _BOLD_LINE.match(first)) else None


def without_post_title(text: str, *, under: int = 60) -> str:
    """A post's answer without a title set over it in Markdown ("# Longevity: what to know" over "The research on
    longevity, in plain words: …" was posted as a double opening in a demo, 2026-12-07): a heading or bold line
    in a title's form ("Topic: what it is about", no sentence end) over a text of its own (60+ characters). A
    headline that says something ("**Gut health starts on your plate**") is the post's hook and stays; a heading
    that ends in a colon introduces what follows ("**Sleep myth:**" over the myth) and stays. A thread's part
    (``under=1``) loses such a title over any text: a section's title inside a thread ("Metabolic Health: what to
    know" over its last part's takeaway was posted in a demo, 2026-12-07)."""
    heading = _heading_over(text)
    if heading is not None and _TITLE_FORM.match(_as_read(heading[0])) and len(heading[1]) >= under:
        return heading[1]
    return text


def clean_text(text: str, *, titled: bool = True) -> str:
    """A post's or a reply's answer as the text to post; ``titled=False`` (a reply): without a title over it."""
    text = strip_preamble(first_draft(revised_draft(strip_fences(strip_reasoning(decoded(text))))))
    return clean_part(without_post_title(text) if titled else without_title(text))


# Parts each in a tag of its own: "<thread><tweet>…</tweet><tweet>…</tweet></thread>".
_TAGGED_PART = re.compile(r"<(tweet|post|part)>\s*(.*?)\s*</\1>", re.IGNORECASE | re.DOTALL)
_SEPARATOR = re.compile(r"(?m)^\s*(?:-{3,}|—{1,}|\*{3,}|_{3,}|={3,}|(?:[•·∙*][ \t]*){3,})\s*$")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_MARKER = re.compile(
    r"(?im)^\s*(?:\*\*|#{1,6}\s*)?(?:\(?(\d{1,2})\s*/\s*\d{0,2}\)?[:.)]?|(\d{1,2})[.)](?:\*\*)?(?=\s)"
    r"|(?:tweet|part|post)\s*(\d{1,2})\b"
    # "(1) …", "[1/3] …", "#1 …", "First tweet: …" (since 2026-12-06)
    r"|\((\d{1,2})\)(?=\s)|\[(?:(?:tweet|part|post)\s*)?(\d{1,2})(?:\s*/\s*\d{1,2})?\](?=\s)|#(\d{1,2})(?=\s)"
    r"|(first|second|third|fourth|fifth|sixth)\s+(?:tweet|part|post)\b"
    r"|(?:tweet|part|post)\s+(one|two|three|four|five|six)\b(?=\s*[:.\-–—]))"
)
# A keycap digit ("1️⃣ …"), read as the digit with a dot: the emoji rule would leave a bare "1".
_KEYCAP = re.compile("([1-9])\ufe0f?\u20e3")


def split_thread(text: str, *, max_parts: int = 6, limit: int = 280, length: Length = len,
                 wanted: int | None = None) -> list[str]:
    """A thread's parts from an answer: ``---``-style separator lines, else parts numbered 1, 2, 3 … at line
    starts, else paragraphs (blank lines). Paragraphs beyond the parts asked for (``wanted``, else ``max_parts``)
    are folded into the one before them, shortest first, while that fits ``limit``: a part may hold a blank
    line of its own."""
    body = _KEYCAP.sub(r"\1.", strip_preamble(revised_draft(strip_fences(strip_reasoning(decoded(text))))))
    if len(tagged := _TAGGED_PART.findall(body)) >= 2:
        chunks = [part for _, part in tagged]
    elif _SEPARATOR.search(body):
        chunks = _SEPARATOR.split(body)
    elif (numbered := _numbered_chunks(body)) is not None:
        chunks = numbered
    else:
        chunks = _headings_joined([c.strip() for c in re.split(r"\n[ \t]*\n", body) if c.strip()])
        chunks = _merge(chunks, target=min(wanted or max_parts, max_parts), limit=limit, length=length)
    return _without_chat_parts([clean_part(c, in_thread=True) for c in chunks])


def _is_chat_part(part: str, *, first: bool) -> bool:
    """A thread's first or last part that is chat as a whole: a part is a paragraph with no text after it in the
    part, so the edge rules above, which keep at least one paragraph, never see it alone (a thread queued "Certainly.
    Draft follows." as its hook and "Notes: I kept it under the limit …" as its last part)."""
    said = _as_read(part)
    if first:
        return bool(_is_lead(said) or _is_lead_paragraph(part) or _THREAD_HEADER.match(said)
                    or _AI_LEAD.fullmatch(said) or _edge_is_chat(part, lead=True) == "chat")
    return bool(_CLOSING_LINE.match(said) or _METADATA_LINE.match(said) or _is_closing_paragraph(part)
                or _EXPLANATION.match("\n\n" + part) or _edge_is_chat(part, lead=False))


def _without_chat_parts(parts: list[str]) -> list[str]:
    parts = [p for p in parts if p]
    while len(parts) > 1 and _is_chat_part(parts[0], first=True):
        parts.pop(0)
    while len(parts) > 1 and _is_chat_part(parts[-1], first=False):
        parts.pop()
    return parts


def _headings_joined(paragraphs: list[str]) -> list[str]:
    """Paragraphs with a heading alone on its paragraph ("### Sleep: what to know", "**Why it matters**") joined
    to the paragraph under it: a heading is not a part of its own."""
    out: list[str] = []
    for paragraph in paragraphs:
        if out and "\n" not in out[-1] and (_HEADING.match(out[-1]) or _BOLD_LINE.match(out[-1])):
            out[-1] = f"{out[-1]}\n\n{paragraph}"
        else:
            out.append(paragraph)
    return out


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
    title = body[: starts[0]].strip() if starts else ""
    if len(starts) < 2 or "\n" in title:
        return None
    chunks = [body[a:b] for a, b in zip(cuts, starts[1:] + [len(body)])]
    # A paragraph after the last numbered part, when no other part holds two, closes the thread as a part of its
    # own ("Bottom line: drink when you're thirsty.").
    paragraphs = [[p for p in re.split(r"\n[ \t]*\n", c.strip()) if p.strip()] for c in chunks]
    if len(paragraphs[-1]) > 1 and all(len(p) == 1 for p in paragraphs[:-1]):
        chunks = [*chunks[:-1], *paragraphs[-1]]
    # A title over the numbered parts ("## Thread: Gut health basics") is no part of them; a line of text is the
    # hook ("Sleep debt is real. A thread 🧵" over "1/ …", "2/ …": until 2026-12-06 read as paragraphs, and the
    # last two numbered parts merged into one with their "3/" inside).
    if title and not (_HEADING.match(title) or _BOLD_LINE.match(title)):
        return [title, *chunks]
    return chunks


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


_PARTS_KEYS = ("parts", "thread", "tweets", "posts")
_TEXT_KEYS = ("text", "tweet", "post", "reply", "content", "response", "output", "message", "answer", "result")
# A thread's or a post's pieces under keys of their own ({"hook": …, "tweets": [...]}, {"hook": …, "body": …,
# "cta": …}), and parts numbered in their keys ({"tweet_1": …, "tweet_2": …}): dropped or unread before 2026-12-07
# (a thread was posted without its hook).
_OPENING_KEYS = ("hook", "opener", "opening", "intro", "headline")
_CLOSING_KEYS = ("cta", "call_to_action", "closing", "closer", "outro", "conclusion", "sign_off")
_NUMBERED_KEY = re.compile(r"^(?:tweet|part|post)[_ -]?(\d{1,2})$", re.IGNORECASE)


def _answer_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The answer's object as read below: a lone wrapper taken off ({"data": {...}}, {"thread": {"tweets": [...]}}),
    numbered parts gathered under "parts", each value's text where a model wrapped it in an object."""
    for _ in range(3):
        if len(data) == 1 and isinstance(inner := next(iter(data.values())), dict):
            data = inner
    numbered = sorted((int(m.group(1)), v) for k, v in data.items() if (m := _NUMBERED_KEY.match(k)))
    if len(numbered) >= 2:
        data = {**{k: v for k, v in data.items() if not _NUMBERED_KEY.match(k)}, "parts": [v for _, v in numbered]}
    return {k.lower(): _text_of(v) for k, v in data.items()}


def _framed(parts: list[str], data: dict[str, Any]) -> list[str]:
    """The parts with the hook and the closing the answer gave under keys of their own."""
    opening = next((v for k in _OPENING_KEYS if isinstance(v := data.get(k), str) and v.strip()), None)
    closing = next((v for k in _CLOSING_KEYS if isinstance(v := data.get(k), str) and v.strip()), None)
    if opening and (not parts or parts[0].strip() != opening.strip()):
        parts = [opening, *parts]
    if closing and (not parts or parts[-1].strip() != closing.strip()):
        parts = [*parts, closing]
    return parts


_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}[ \t]+)+(?=[A-Z])")


def without_title(text: str) -> str:
    """A reply's answer without the title a model set over it ("# Heart Health: what to know", "**Sleep tips**" on a
    line of its own) or the tweet it quotes over it: a reply has no title, and with its marks stripped one was
    posted in a demo as the reply's first line (again after a reasoning block or a preamble, before 2026-12-06 read
    before they were taken off). A title or a quote alone is left (nothing else to post)."""
    # "@sleepdoc Totally agree …": the old reply convention; X addresses the reply already. Only before a sentence
    # that starts on its own ("@scamcoin is great" is a mention in the sentence: left for the gates).
    text = strip_wrapping_quotes(_LEADING_MENTIONS.sub("", text.strip(), count=1))
    if (heading := _heading_over(text)) is not None:
        return heading[1]
    lines = text.splitlines()
    # The tweet quoted over the answer ("> Morning light sets your clock\n\nExactly, and it's free."): a reply
    # shows the tweet already; its quote marks stripped, the reply would say the tweet's words as its own.
    quoted = 0
    while quoted < len(lines) and (_QUOTE_BLOCK.match(lines[quoted]) or not lines[quoted].strip() and quoted):
        quoted += 1
    if quoted and any(line.strip() for line in lines[quoted:]):
        return "\n".join(lines[quoted:]).strip()
    return text


def read_answer(text: str, *, thread: bool, max_parts: int = 6, limit: int = 280, length: Length = len,
                wanted: int | None = None, titled: bool = True) -> Answer:
    """The parts of an answer: from JSON (``{"parts": [...]}`` or ``{"text": "..."}``) when it is JSON, else
    from the text; every part cleaned. ``titled=False``: a reply, which loses a title set over it."""
    data = _json_object(text)
    if data is not None:
        data = _answer_fields(data)
        raw_parts = next((data[k] for k in _PARTS_KEYS if k in data), None)
        if thread and isinstance(raw_parts, str):  # the thread as one string under "parts": split like text
            raw_parts = [raw_parts]
        if thread and isinstance(raw_parts, list) and all(isinstance(p, str) for p in raw_parts):
            raw_parts = _framed(raw_parts, data)
            parts = [clean_part(strip_preamble(p), in_thread=True) for p in raw_parts]
            if len(parts) == 1:  # a thread returned as one string: split it like text
                return Answer(split_thread(raw_parts[0], max_parts=max_parts, limit=limit, length=length,
                                           wanted=wanted), True)
            return Answer(_without_chat_parts(parts), True)
        # The schema's key, else the one a model chose without the schema ({"tweet": …}, {"response": …}), else a
        # post in the pieces of a formula ({"hook": …, "body": …, "cta": …}).
        pieces = _framed([v] if isinstance(v := data.get("body"), str) else [], data)
        single = next((v for k in _TEXT_KEYS if isinstance(v := data.get(k), str)), None) or next(
            (v for k, v in data.items() if isinstance(v, str) and any(w in k.lower() for w in _TEXT_KEYS)), None) or (
            "\n\n".join(pieces) if len(pieces) >= 2 else None)
        if isinstance(single, str):
            if thread:
                return Answer(split_thread(single, max_parts=max_parts, limit=limit, length=length, wanted=wanted),
                              True)
            return Answer([clean_text(single, titled=titled)], True)
    if thread:
        return Answer(split_thread(text, max_parts=max_parts, limit=limit, length=length, wanted=wanted), False)
    return Answer([clean_text(text, titled=titled)], False)


def _text_of(value: Any) -> Any:
    """A value's text where a model wrapped it in an object of its own: a part as {"text": …} or {"id": 2,
    "content": …}, the answer as {"response": {"text": …}}; any other value as it is."""
    if isinstance(value, list):
        return [_text_of(v) for v in value]
    if isinstance(value, dict):
        return next((v for k in _TEXT_KEYS if isinstance(v := value.get(k), str)), value)
    return value


def _json_object(text: str) -> dict[str, Any] | None:
    """The answer's JSON object; a bare list of strings reads as {"parts": [...]}."""
    body = strip_fences(strip_reasoning(text)).strip()
    if body.startswith("[") and body.endswith("]"):
        try:
            items = loads_answer(body)
        except ValueError:
            return None
        items = _text_of(items)  # parts as objects of their own: [{"text": …}, …]
        return {"parts": items} if isinstance(items, list) and all(isinstance(i, str) for i in items) else None
    start, end = body.find("{"), body.rfind("}")
    lead = body[:start].strip().translate(APOSTROPHES) if start > 0 else ""
    # over the object, a preamble or a label ("**reply:**" over {"text": …} was refused as structured data in a
    # demo, 2026-12-07)
    if start < 0 or end <= start or lead and not (_PREAMBLE_LINE.match(lead) or _LABEL.fullmatch(lead)):
        return None
    try:
        data = loads_answer(body[start : end + 1])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# ---------------------------------------------------------------- what no cleaning repairs

_PLACEHOLDER = re.compile(
    r"\{[A-Za-z_][A-Za-z0-9_ ]*\}"
    r"|\[(?:insert|your|add|link|source|citation|name|topic|url|statistic|number|x)\b[^\]\n]*\]"
    # 2026-12-07: "XX% of productivity", "<URL>", "(insert source)", "TODO: add stat", "Lorem ipsum"
    # "<add source here>": a bracketed instruction to whoever posts it
    r"|(?<![\w-])XX+(?:\.X+)?\s?%|<(?:url|link|name|handle|source|number|stat)>|<(?:insert|add|your) [^<>\n]{1,40}>"
    r"|\((?:insert|add) [^)\n]{1,30}\)|(?-i:\bTODO\b)|\blorem ipsum\b",
    re.IGNORECASE,
)


# A thread's part numbers inside one text: "(2/4)", or "2/4" opening or closing a line. Fractions sit inside a
# sentence ("1/2 cup oats, 1/4 cup nuts") or open one with what they count ("1/3 of adults …").
_FRACTION_OF = r"(?!\s+(?:of|an?|the|cups?|tsp|tbsp|teaspoons?|tablespoons?|lbs?|kg|g|oz|miles?|hours?|more|less)\b)"
_PART_NUMBER = re.compile(rf"\((\d{{1,2}})/(\d{{1,2}})\)|(?m:^[ \t]*(\d{{1,2}})/(\d{{1,2}})(?=\s){_FRACTION_OF})"
                          r"|(?m:\s(\d{1,2})/(\d{1,2})[ \t]*$)")


def numbered_parts(text: str) -> list[str]:
    """The thread part numbers in one text ("2/4", "3/4") when two or more count the same parts: a thread written
    where one post or reply was asked, which no cut makes one post (a demo queued "… to:\n\n(2/4) This surprised
    me: …\n\n(3/4) One finding stands out." as a post)."""
    found = [tuple(g for g in m.groups() if g is not None) for m in _PART_NUMBER.finditer(text)]
    by_total: dict[str, list[str]] = {}
    for n, total in found:
        if 0 < int(n) <= int(total):
            by_total.setdefault(total, []).append(f"{n}/{total}")
    return max(by_total.values(), key=len) if by_total and max(map(len, by_total.values())) >= 2 else []


# The end of a thread's hook, where one post or reply was asked: "Here's what the research actually says 👇",
# "Here's why:", "A thread" (nothing follows it on X).
_ANNOUNCES_MORE = re.compile(
    r"(?:\bhere(?:'s| is| are)\s+(?:what|why|how|the\b[^.!?:\n]{0,40}?\b(?:truth|science|evidence|research|"
    r"breakdown|deal))\b[^.!?:\n]{0,60}|\b(?:a|my|this)\s+(?:short\s+|quick\s+)?thread|\bread on|\bkeep reading|"
    r"\blet(?:'s| me) (?:dive|break (?:it|this) down|unpack|explain)[^.!?:\n]{0,20}|\bmore below|\bsee below|"
    r"\bbelow)\W*$|:\s*$",
    re.IGNORECASE,
)


def malformed_reason(text: str, *, whole: bool = False) -> str | None:
    """Why a cleaned text is still not the plain text that was asked for, or None. ``whole``: the text is the
    whole post or reply (not a thread's part), so it may not announce what follows."""
    stripped = text.strip()
    if not stripped:
        return "answer without text"
    if whole and _ANNOUNCES_MORE.search(stripped.translate(APOSTROPHES)):
        return "answer announces what follows and stops (a thread's hook): one post is the whole text"
    if numbered := numbered_parts(stripped):
        return f"answer is a thread (parts numbered {', '.join(numbered)}), not one text"
    if stripped.startswith(("{", "[")) and stripped.endswith(("}", "]")):
        return "answer is structured data, not plain text"
    if stripped.startswith('{"') or stripped.startswith("```"):
        return "answer is broken structured data"
    if m := _PLACEHOLDER.search(stripped):
        return f"answer has an unfilled placeholder {m.group(0)!r}"
    return None


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
    """``text`` without the generic padding sentences at its end (``_PADDING``), at least one sentence kept, and
    without the engagement bait the padding followed ("Drop a 💬 below with your take! Small, consistent steps
    add up …": clean_part saw no bait at the end)."""
    ends = [0, *(m.end() for m in _PADDING_START.finditer(text + " "))]
    padded = False
    while (len(ends) > 2 and ends[-1] >= len(text.rstrip()) - 1
           and _PADDING.search(text[ends[-2]:].translate(APOSTROPHES))):
        text = text[: ends[-2]].rstrip()
        ends.pop()
        padded = True
    return strip_engagement_bait(text).rstrip() if padded else text


def fit_to_limit(text: str, limit: int, *, length: Length = len, keep_at_least: float = 0.5) -> str:
    """The text without the padding sentences at its end (``strip_padding``; also within the limit: the habits the
    normaliser removed may have been what made the answer over-long), then, when still over-long, shortened by
    dropping whole trailing sentences (not at an abbreviation's dot, not inside brackets: libs.text.sentences),
    when at least ``keep_at_least`` of it (and two sentences) remains;
    otherwise returned for the length gate to reject. A model asked for 260 characters often adds a
    closing sentence or two; a text that needs more than that is rewritten instead."""
    text = strip_padding(text)
    if length(text) <= limit:
        return text
    ends = sentence_ends(text)
    for cut in reversed(ends[1:]):  # keep at least two sentences
        shorter = text[:cut].rstrip()
        if length(shorter) <= limit and balanced(shorter):  # never half a citation: "(Yusuf et al."
            return shorter if length(shorter) >= keep_at_least * length(text) else text
    return text
