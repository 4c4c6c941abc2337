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
    # "As an AI, …" and "As an AI developed by OpenAI" (not "As an AI researcher who …": a person's trade)
    r"\b(?:as an? (?:(?:responsible|helpful|ethical|honest|friendly) )?(?:(?:ai|a\.i\.|artificial intelligence)"
    r"(?=\s*[,;:]|\s+(?:language model|model|assistant|system|chatbot|developed|made|created|trained|built))|"
    r"(?:large )?language model|llm|ai (?:language )?model|ai assistant|chatbot|"
    r"(?:virtual |digital )?assistant(?=\s*,))|"
    # what only a model says of itself: "I'm not able to browse the internet", "I don't have access to real-time"
    r"i(?:'m| am) (?:not able|unable) to (?:browse|access)|i (?:can(?:not|'t)|do not|don'?t) (?:browse|access|"
    r"have access to) (?:the internet|the web|real-time|current|live)|"
    r"i(?:'m| am) (?:just |only |merely )?an? (?:ai|a\.i\.|(?:large )?language model|llm|ai (?:language )?model|"
    r"ai assistant|virtual assistant|chatbot)|i(?:'m| am) (?:claude|chatgpt|gemini|llama|an ai)\b|"
    # "I'm a text-based AI and can't …" (not "I'm an AI researcher"), "beyond my current scope", "I can't open URLs"
    r"i(?:'m| am) an? (?:[\w-]+ ){1,2}ai(?=\s*(?:[,.;:!]|and\b|so\b|that\b|$))|"
    r"(?:beyond|outside (?:of )?) my (?:current )?(?:scope|capabilities|abilities)|"
    r"i (?:can(?:not|'t)|am unable to|'m unable to) (?:open|access|visit|follow|click) (?:urls?|links?)|"
    r"browse (?:x|twitter)\b|"
    r"i(?:'m| am) designed to|i was (?:designed|trained|programmed|built) to|"
    r"i can(?:not|'t) post to (?:x|twitter)|content polic(?:y|ies) that|"
    # "I don't have personal experiences" (not "…, but I've coached 200 clients": a person)
    r"i (?:do not|don'?t) have (?:personal |any personal )?(?:experiences?|opinions?|feelings|a body|beliefs)"
    r"(?![^.!?\n]{0,60}\bbut i(?:'ve| have|'m| am)\b)|"
    r"my (?:training data|knowledge cutoff|training cut-?off)|"
    r"en tant qu'ia|als (?:ki|sprachmodell)\b|como (?:una )?ia\b|come (?:un'?)?ia\b)\b",
    re.IGNORECASE,
)
# What the model would do for the person who asked: a sentence about the task, not the niche ("write a post",
# "reply to this tweet", "give advice"), which only a refusal combines with an unwillingness in the first person.
_TASK = (r"(?:help(?! but)|assist|provid\w*|creat\w*|writ\w*|draft\w*|generat\w*|produc\w*|comply|fulfil+\w*|"
         r"do (?:that|this)|respond|reply|answer|post (?:this|that|it|a|an|the|about)|tweet|"
         r"give (?:\w+ ){0,2}(?:advice|recommendations?|guidance|tips)|offer (?:\w+ ){0,2}(?:advice|guidance)|"
         r"engage|weigh in|share (?:that|this)|touch)")
_REFUSAL = re.compile(
    # An apology followed by what *I* cannot do about the task ("Sorry, I can't do the 5am club" is a post).
    r"(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)\b[^.!?\n]{0,40}?\bi\s*(?:can(?:not|'t)|won'?t|"
    r"am unable|'m unable|am not able|'m not able|must decline)\b\s*(?:[^.!?\n]{0,30}?\b" + _TASK + r"|\s*[.!]?\s*$)"
    r"|\bi(?: can(?:not|'t)| won'?t| will not| am unable to|'m unable to| am not able to|'m not able to|"
    r" must decline to|"
    r" (?:do not|don'?t) feel comfortable|'d prefer not to| would prefer not to|'d rather not| would rather not|"
    r" (?:do not|don'?t) think i should| shouldn'?t| can(?:not|'t) in good conscience)"
    # (not a person's day: "I can't write a long thread today, so here's the short version")
    r"\s+(?:be\s+(?:able to\s+)?)?" + _TASK + r"(?![^.!?\n]{0,30}\b(?:today|tonight|right now|this week)\b)" +
    r"|\bi must (?:respectfully )?decline\b|\bi need to decline (?:this|that|the|your|to)\b|\bi'?d rather not\s*[.!]"
    # "That's not something I can help with", "I'm going to pass on this one", "…, so I'll pass."
    r"|(?:\bnot|n't) something i (?:can|could|am able to|'m able to|will) (?:help|assist|write|create|do|provide)\b"
    r"|\bi(?:'m| am) going to (?:pass|decline|skip)\b|\bi(?:'ll| will) (?:have to )?(?:pass|decline)"
    r"(?: on (?:this|that)(?: one| request)?)?[.!]?\s*$"
    r"|\bi(?:'m| am) not comfortable (?:writing|creating|posting|helping|producing|generating)\b"
    r"|\bfalls? outside (?:of )?(?:what i can|my (?:scope|guidelines|capabilities))"
    # 2026-12-07: "Sorry, that's outside what I can help with", a deflection in the text's place ("I would
    # recommend consulting a healthcare professional instead of posting about this"), a provider's stand-in
    # ("[This content has been removed due to a policy violation]")
    r"|\b(?:outside|beyond) (?:of )?what i (?:can|could|am able to|'m able to) (?:help|assist|do|write|create)\b"
    r"|\binstead of (?:posting|tweeting|writing|replying|sharing) (?:about )?(?:this|that|it|a (?:post|tweet|reply))\b"
    r"|\b(?:this |the )?(?:content|response|message|output) (?:has been|was|is) (?:removed|filtered|blocked|withheld|"
    r"redacted)\b"
    # talk to whoever asked, which no post holds: "the tweet you'd like me to reply to", "your request",
    # "Before writing anything, …", "any content … should be reviewed by a qualified expert"
    r"|\byou(?:'d| would)? (?:like|want) (?:me to|an? (?:\w+ ){0,2}(?:tweet|post|reply|thread))|\byou asked me to\b"
    # a question back instead of the text: "Which voice should I use?", "Could you paste the tweet?"
    r"|\bshould i (?:use|keep|include|write|make|go with|aim)\b|\bdo you (?:mean|want (?:me|the|it))\b"
    r"|\bcould you (?:paste|clarify|provide (?:the|more)|send (?:me )?the|copy the)\b|\blet me know and i'?ll\b"
    r"|\bquick question (?:first|before i)\b|\bthat'?ll help me (?:match|write|tailor|get)\b"
    # a lecture in place of the text: "Rather than providing a post that …"
    r"|\brather than (?:provid|writ|giv|post|draft|creat)\w* (?:a|an|this|that|the|such)\b"
    r"|\b(?:your|the|this|thoughtful) request\b|\bbefore (?:i )?(?:write|writing|draft|drafting|create|creating)"
    r" (?:this|that|the|a|your|anything)\b|\bshould be reviewed by\b|\bi want to be careful here\b"
    # the same in the languages a multilingual model falls back to (the niche's language is English)
    r"|\b(?:no puedo (?:ayudar|crear|escribir|hacer eso|generar|proporcionar)|"
    r"je ne peux pas (?:[eé]crire|r[eé]diger|cr[eé]er|aider|fournir|r[eé]pondre|vous aider)|es tut mir leid|"
    r"(?:kann ich|ich kann) (?:dabei |das |dazu )?(?:leider )?(?:nicht|keinen?)\b|"
    r"desculpe,? (?:mas )?n[aã]o posso|n[aã]o posso|mi dispiace,? (?:ma )?non posso|je suis d[eé]sol[eé],? mais)"
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
