"""The refusal gate: a model that declined the task, or spoke as an AI, wrote nothing the account can post.

It runs on every kind of content (posts, every thread part, replies), after normalisation. The patterns are the
wordings chat models use (OpenAI, Anthropic, Llama, Mistral, Qwen families): "I'm sorry, but I can't …", "I can't
help with that", "As an AI language model …", "I don't have personal experiences". A refusal is rejected and
rewritten like any gate rejection; it is never repaired, because what surrounds it is not the post asked for.
"""

from __future__ import annotations

import re

from libs.gates.entities import fold
from libs.gates.verdict import Rejection, Verdict

_AS_AN_AI = re.compile(
    r"\b(?:as an? (?:(?:responsible|helpful|ethical|honest|friendly) )?(?:ai|a\.i\.|artificial intelligence|"
    r"(?:large )?language model|llm|ai (?:language )?model|ai assistant|assistant|chatbot)|"
    # what only a model says of itself: "I'm not able to browse the internet", "I don't have access to real-time"
    r"i(?:'m| am) (?:not able|unable) to (?:browse|access)|i (?:can(?:not|'t)|do not|don'?t) (?:browse|access|"
    r"have access to) (?:the internet|the web|real-time|current|live)|"
    r"i(?:'m| am) (?:just |only |merely )?an? (?:ai|a\.i\.|(?:large )?language model|llm|ai (?:language )?model|"
    r"ai assistant|virtual assistant|chatbot)|"
    r"i (?:do not|don'?t) have (?:personal |any personal )?(?:experiences?|opinions?|feelings|a body|beliefs)|"
    r"my (?:training data|knowledge cutoff|training cut-?off))\b",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    # An apology followed by what *I* cannot do ("Sorry, but you can't out-run a bad diet" is a post, not this).
    r"(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)\b[^.!?\n]{0,40}?\bi\s*(?:can(?:not|'t)|won'?t|"
    r"am unable|'m unable|am not able|'m not able|must decline)\b"
    r"|\bi(?: can(?:not|'t)| won'?t| am unable to|'m unable to| am not able to|'m not able to| must decline to|"
    r" (?:do not|don'?t) feel comfortable) (?:help(?:ing)? (?:with|you)|assist(?:ing)?|provid(?:e|ing)|"
    r"creat(?:e|ing)|writ(?:e|ing) (?:that|this|a|an|the|content|tweets?|posts?)|generat(?:e|ing)|comply|fulfil+|"
    r"do (?:that|this)|produce (?:that|this|content)|give (?:medical|health|personal(?:ized|ised)?) advice)\b"
    r"|\bi must (?:respectfully )?decline\b"
    # "I'd rather not write about that", "I won't be able to help", "That's not something I can help with", "I'm
    # not comfortable writing this", "…, so I'll pass." (ending the answer), "Before I write this, …"
    r"|\bi'?d rather not (?:write|create|post|help|comment|produce|generate|engage|discuss|answer|respond|touch)\b"
    r"|\bi (?:won'?t|will not) be able to (?:help|assist|write|create|provide|produce|generate|do)\b"
    r"|\bnot something i (?:can|could|am able to|'m able to|will) (?:help|assist|write|create|do|provide)\b"
    r"|\bi(?:'m| am) not comfortable (?:writing|creating|posting|helping|producing|generating)\b"
    r"|\bi'?ll (?:have to )?pass(?: on (?:this|that)(?: one| request)?)?[.!]?\s*$"
    r"|\bbefore i (?:write|draft|create) (?:this|that|the|a|your|anything)\b"
    # the same in the languages a multilingual model falls back to (the niche's language is English)
    r"|\b(?:lo siento|no puedo (?:ayudar|crear|escribir)|je ne peux pas (?:vous )?(?:aider|ecrire|écrire|creer|"
    r"créer)|ich kann (?:dabei |das )?nicht (?:helfen|schreiben|erstellen)|nao posso|não posso)\b"
    r"|\b(?:against|violates?) (?:my|openai'?s|the) (?:guidelines|polic(?:y|ies)|content polic(?:y|ies)|"
    r"usage polic(?:y|ies)|programming)\b",
    re.IGNORECASE,
)


def check_refusal(text: str) -> Verdict:
    """Reject a text in which the model refuses the task or speaks as an AI; the reason quotes the words."""
    text = fold(text)  # as the other rules read it: most models write "I can’t"
    if m := _AS_AN_AI.search(text):
        return Rejection("refusal", f"the model speaks as an AI ({m.group(0).strip()!r})")
    if m := _REFUSAL.search(text):
        return Rejection("refusal", f"the model refused ({m.group(0).strip(' .!?')[:60]!r})")
    return None
