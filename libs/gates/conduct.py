"""What the account never does in a reply: sell, solicit, or accuse a named person.

Rules catch the plain forms (a discount code, "DM me", "Dr. Jane Doe is a fraud"); the model review
(libs/gates/review.py) is there for the rest.
"""

from __future__ import annotations

import re

from libs.gates.entities import fold
from libs.gates.verdict import Rejection, Verdict
from libs.text.sentences import split_sentences

# Case-blind but where case is the signal (a promo code's capitals, a brand's or a person's name): a reply's
# solicitation opens a sentence as often as not ("DM me for the plan", "Follow me for more").
_SOLICITATION = re.compile(
    r"(?i:\bi recommend\b|\bgo (?:buy|get|order)\b)"
    r"|(?i:\b(?:use|enter|apply|with) (?:my |the |our )?(?:code|coupon|promo)\b)"
    r"|\b(?i:code|coupon|promo code)\s*:?\s*[A-Z][A-Z0-9]{3,}\b"
    r"|\b[A-Z]{3,}\d{2,}\b"  # SLEEP20, GUT50: promo codes
    r"|(?i:\b\d{1,2}\s*% off\b|\bhalf price\b|\bdiscount\b"
    r"|\b(?:buy|order|grab|purchase|shop|get yours|pre-?order)\b[^.!?]{0,40}\b(?:now|today|here|before|from|at|"
    r"while|one|it|them|this)\b"
    r"|\b(?:dm|pm|message|text|whatsapp|call|email|e-mail|write to|contact|reach out to|reach me)\b"
    r"(?: (?:me|us|them|her|him))?\b[^.!?]{0,30}\b(?:for|to get|to join|at|on|today|now)\b"
    r"|^\s*dm\b|\bdm (?:me|us)\b"
    r"|\bfree (?:bottle|trial|sample|consult(?:ation)?|gift|shipping)\b|\bfirst \d+ (?:buyers|customers|people)\b"
    r"|\blimited (?:drop|offer|time|stock|edition)\b|\b(?:link|code) in (?:my )?bio\b"
    r"|\b(?:the )?best [\w ]{1,20} (?:product|brand|supplement)s? (?:i know|out there|ever)\b)"
    r"|\b(?i:shout ?out|credit|thanks) to [A-Z]\w*[A-Z]\w*"
    r"|\b(?i:follow|subscribe to|join|sign up (?:for|at)|check out)\s+(?i:my |our |the )?[A-Z]\w*(?:[A-Z]\w*|\d+)"
    r"|(?i:\b(?:follow|subscribe to|join)\s+(?:me|us|my|our)\b"
    r"|\bmention (?:the )?name at checkout\b|\bat checkout\b"
    # Self-promotion a blind probe of 2026-12-06 passed (17 of 20): the account's own page, product or funnel.
    r"|\b(?:check|see|read|visit|grab|get|download|join|tap|hit|click)\b[^.!?\n]{0,30}\b(?:my|our)\s+"
    r"(?:pinned|profile|bio|page|newsletter|substack|course|ebook|e-book|website|site|blog|channel|podcast|"
    r"patreon|discord|community|shop|store|link|"
    r"(?:free )?(?:\w+ ){0,2}(?:guide|plan|checklist|template|pdf|cheat ?sheet))"
    r"|\b(?:on|in|at) my (?:profile|page|pinned|bio|substack|newsletter|website|site|blog|channel)\b"
    r"|\b(?:sign up for|subscribe to) my\b|\bmy (?:course|ebook|e-book|newsletter|substack|masterclass|webinar|"
    r"workshop|coaching program(?:me)?|patreon)\b"
    r"|\bi (?:wrote|made|created|built|launched|sell|offer) (?:an?|my) (?:ebook|e-book|course|app|newsletter|"
    r"podcast|program(?:me)?|guide|checklist|masterclass)\b"
    r"|\b(?:comment|reply|type|drop)\s+[\"'“‘]?[a-z]{2,12}[\"'”’]?\s+(?:and|to get)\b[^.!?\n]{0,30}"
    r"\b(?:i'?ll|send|dm)\b"
    r"|\bbook a (?:free )?(?:call|session|consult\w*)\b|\bspots? (?:are |is )?(?:limited|left)\b"
    r"|\bsubscribe (?:for|to get|now)\b|\b(?:retweet|rt|like|share) (?:this )?if\b|\bfollow along\b"
    r"|\btap (?:the )?link\b|\bi coach\b"
    # 2026-12-07: a payment handle, a search that leads to the account's own channel
    r"|\b(?:venmo|cash ?app|paypal|zelle|ko-?fi)\s*(?:me\b|[:@$]|\.me/)|\bbuy me a coffee\b|\bgofundme\b"
    r"|\bsearch\s+[\"“']?[\w .-]{2,30}[\"”']?\s+on\s+(?:youtube|google|spotify|amazon|apple podcasts|tiktok|"
    r"instagram|ig)\b)",
)
# A named person: a title and a capitalised name (after an abbreviated title, a name in any case: "dr smith"), or
# two capitalised words that do not open the sentence.
_PERSON = re.compile(
    r"\b(?:Dr|Doctor|Prof|Professor|Coach|Mr|Mrs|Ms|Nurse|Nutritionist|Dietitian|Influencer|Chef|Trainer)\.?\s+"
    r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
    r"|\b(?i:dr|prof)\.?\s+[a-z]{2,}\b"
    r"|(?<=[a-z,;:] )[A-Z][a-z]+\s+[A-Z][a-z]+\b"
    # two capitalised words opening the sentence ("Mark Hyman is …", "Tom Brady's diet advice …"; not a saint's
    # herb: "St. John's wort"), a handle
    r"|^(?!St\b|Saint\b)[A-Z][a-z]+\s+[A-Z][a-z]+(?:'s)?\b|(?<![\w@])@\w{2,}"
    # 2026-12-07: "RFK Jr.", "the CEO of Nestle", a surname alone that the sentence calls he or she ("Huberman is a
    # fraud who sells supplements he knows don't work")
    r"|\b[A-Z][A-Za-z]+ (?:Jr|Sr)\b|\b(?i:ceo|founder|owner|president|chairman|head) of [A-Z]\w+"
    r"|^(?!(?:The|This|That|These|Those|Its|Our|Your|Their|His|Her|She|They|You|And|But|Then|When|What|Why|How|"
    r"Who|Some|Most|Many|Every|Each|One|Not|Yes|Also|Just|Only|Even|Still|Now|Here|There|If|After|Before|While)\b)"
    r"[A-Z][a-z]{2,}(?:'s)?\b(?=.*\b(?:he|she|him|his|her|hers|himself|herself)\b)",
)
# The same in a shouted sentence, title-cased first: any two words there are capitalised, so only a title and a
# name, or two words that open the sentence in front of the verb ("JOHN SMITH LIES ABOUT …").
_SHOUTED_PERSON = re.compile(
    r"\b(?:Dr|Doctor|Prof|Professor|Coach|Mr|Mrs|Ms|Nurse|Nutritionist|Dietitian|Influencer|Chef|Trainer)\.?\s+"
    r"[A-Z][a-z]+"
    r"|^[A-Z][a-z]+\s+[A-Z][a-z]+\s+(?i:is|was|has|sells|steals|lies|killed|fakes|takes)\b",
)
# "Dr. Smith": the abbreviation's dot does not end the sentence.
_TITLE_DOT = re.compile(r"\b(dr|mr|mrs|ms|prof|st)\.(?=\s)", re.IGNORECASE)
_ACCUSATION = re.compile(
    r"\b(?:fraud|frauds|fraudster|quack|charlatan|liar|lies|lying|lied|scam|scammer|scams|con artist|crook|"
    r"criminal|corrupt|shill|paid (?:by|off)|on the payroll|fake[sd]?|fabricat\w+|invent(?:s|ed)? (?:her|his|their) "
    r"data|steals?|stole|stealing|killed|murder\w*|covered (?:it )?up|cover-up|on steroids|sells fake|"
    r"should lose (?:her|his|their) licen[cs]e|should be (?:jailed|arrested|banned)|abuser|predator|poison\w*|"
    r"got people sick|made people sick|sick and dependent|"
    # a blind probe of 2026-12-06 (8 of 12 accusations passed)
    r"scammed|scamming|grift(?:er|ers|ing)?|quackery|snake oil|(?:spreads?|spreading) (?:mis|dis)information|"
    r"rips? (?:people|patients|you|them|customers) off|sued for|"
    r"faking|caught (?:lying|cheating|faking)|crank|knowingly (?:sold|hid|hides|sells|lied|poisoned|covered)|"
    r"contaminated)\b",
    re.IGNORECASE,
)


def check_solicitation(text: str) -> Verdict:
    folded = fold(text)
    if m := _SOLICITATION.search(folded):
        return Rejection("solicitation", f"promotes or solicits: {m.group(0)!r}")
    return None


def check_defamation(text: str) -> Verdict:
    """An accusation against a named person in one sentence: a reply never accuses anyone."""
    for sentence in split_sentences(_TITLE_DOT.sub(r"\1", fold(text))):
        shouted = not any(c.islower() for c in sentence)
        person = (_SHOUTED_PERSON.search(sentence.title()) if shouted else _PERSON.search(sentence))
        accusation = _ACCUSATION.search(sentence)
        if person and accusation:
            return Rejection("defamation", f"accuses a named person ({person.group(0)!r}: {accusation.group(0)!r})")
    return None


# Shaming, blaming or belittling people, as models write it when asked for a bold take or to answer someone who
# disagrees (2026-12-07): the owner's voice never shames. Blunt is not shaming ("No, you don't need eight glasses",
# "Hard truth: no supplement replaces sleep"); blame laid on the reader, a group or the person answered is.
_SHAMING = re.compile(
    # "No excuses." is blame; "No gym, no gear, no excuses." a list of what the habit does not need
    r"(?<!, )\bno (?:more )?excuses\b(?!\s+needed)|"
    r"\bstop (?:making excuses|whining|complaining|crying|being (?:lazy|weak|soft|stupid|dramatic))|"
    r"\b(?:that'?s|it'?s) on you\b|\byou chose this\b|\byou chose the (?:couch|sofa|fries|takeaway|junk)\b|"
    r"\b(?:lazy|weak|soft|undisciplined|stupid|dumb|clueless|ignorant|pathetic|disgusting|embarrassing|gross|"
    r"sloppy) (?:people|adults|parents|excuse|mind|minds)\b|"
    r"\b(?:they'?re|you'?re|we'?re|people are|most people are|you are|they are) (?:just )?(?:too )?(?:lazy|weak|"
    r"undisciplined|stupid|clueless|pathetic)\b|"
    r"\b(?:fat|obese|overweight|lazy) (?:people|folks|americans|kids)\b(?! (?:face|experience|are more likely|"
    r"have (?:a )?higher))|"
    r"\byour (?:fork|mouth|couch|laziness|excuses?) (?:is|are)\b|"
    r"\b(?:imagine|can'?t believe (?:people|adults|you)) still (?:thinking|believing|eating|doing|falling for)\b|"
    r"\bit'?s not rocket science\b|\blet me explain (?:this|it) slowly\b|(?:^|[.!?]\s+)(?:sweetie|sweetheart),|"
    r"\b(?:do|try doing) your (?:own )?research\b|\byou clearly (?:haven'?t|have not|don'?t|do not)\b|"
    r"\bpathetic\b|\bembarrassing that\b|\blet (?:yourself|themselves) go(?=[.!,]| after\b| like\b)|"
    r"\bnobody wants (?:that|to see)\b|\bget off your (?:butt|ass)\b|"
    r"\bpeople like you (?:are (?:the|why)|always|never|should)\b|"
    # condescension to the person answered, a group blamed (a blind set's forms)
    r"\b(?:stop )?hiding behind (?:your|their) (?:age|genes|genetics|metabolism|thyroid|excuses)\b|"
    r"\b(?:basic reading|try reading (?:past|beyond)|think before you (?:type|post|tweet))\b|"
    r"\bdon'?t know how to help you\b|\binteresting priorities\b|\bno offen[cs]e,? but\b|\bfrankly,? it shows\b|"
    r"\bmy favou?rite comedy\b|\bfunny how (?:the )?(?:people|those) who\b|\b(?:people|those) who say otherwise\b|"
    r"\bjust don'?t want to admit\b|\b(?:that'?s|it'?s) (?:your|their|bad) parenting\b|"
    r"\bat your age,? you (?:should|shouldn'?t|ought|still)\b|\bbad at running your\b",
    re.IGNORECASE,
)
# Blame on a person's character: shaming when laid on, kindness when taken away ("Self-care isn't selfish", "Asking
# for help is not a sign of weakness", "Don't be embarrassed to ask", "That crash isn't a willpower problem"), so
# these count only in a sentence without a negation before them.
_BLAME = re.compile(
    r"\b(?:zero|a lack of|lack of|lacks?|have no|has no) (?:self-control|willpower|discipline)\b(?! (?:needed|"
    r"required))|\bcharacter flaws?\b|\b(?:discipline|willpower|character|motivation|laziness) (?:problem|issue)\b|"
    r"\bselfish\b|\bgluttony\b|\boverfed\b|\bfeeling sorry for (?:yourself|themselves)\b|"
    r"\bsign of (?:a )?weak(?:ness| mind| will)\b|\bbe (?:ashamed|embarrassed)\b|"
    r"\b(?:should|ought to) (?:really )?(?:feel (?:(?:a little|a bit) )?bad|know better)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|never|isn'?t|aren'?t|wasn'?t|don'?t|doesn'?t|didn'?t|won'?t|nothing)\b|n't\b",
                       re.IGNORECASE)


def check_shaming(text: str) -> Verdict:
    """Shaming, blaming or belittling people in a model's post or reply (the owner's voice never shames)."""
    for sentence in split_sentences(fold(text)):
        m = _SHAMING.search(sentence)
        if m is None and (blame := _BLAME.search(sentence)) and not _NEGATION.search(sentence[: blame.start()]):
            m = blame
        if m is not None:
            return Rejection("shaming", f"shames or belittles people: {m.group(0)!r}")
    return None
