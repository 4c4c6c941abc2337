"""A biography the model made up for the account: a profession or credential ("As a dietitian, …", "MD here"),
patients or clients ("One of my patients …", "I've treated hundreds of people"), or a health history ("When I was
diagnosed with prediabetes …", "I reversed my type 2 diabetes") that the owner never gave.

Asked for "a short story that lands one lesson" or a reply in the owner's voice, real models write one as often as
not; posted, it is a false statement about the owner, and on a health account a false credential. What the owner
says of themselves counts: a profession or condition named in the account's voice or example posts
(``owner_words``) may be spoken of in the first person. The planner's rule for what a model writes, not
``gate_post``'s: the owner's own posts in the console are theirs to word (as ``invented_contact``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from libs.gates.entities import fold
from libs.gates.verdict import Rejection
from libs.text.sentences import split_sentences

_PROFESSION = (
    r"(?:doctor|physician|gp|md|m\.d\.|nurse|rn|np|nurse practitioner|dietitian|dietician|nutritionist|rd|"
    r"pharmacist|physio|physiotherapist|physical therapist|pt|psychologist|psychiatrist|therapist|counsell?or|"
    r"personal trainer|trainer|(?:health|sleep|fitness|wellness|running|strength|nutrition|life|certified) coach|"
    r"coach(?!\s+potato)|researcher|scientist|neuroscientist|cardiologist|endocrinologist|gastroenterologist|"
    r"dermatologist|surgeon|paramedic|emt|midwife|doula|dentist|chiropractor|osteopath|naturopath|phd|clinician|"
    r"medic|practitioner|epidemiologist|kinesiologist|physiologist|pediatrician|paediatrician|"
    r"(?:er|icu|a&e) (?:doc|nurse)|doc|dr\.?)"
)
# Conditions, treatments and events of a health history.
_CONDITION = (
    r"(?:type [12] diabetes|t2d|diabetes|pre-?diabetes|cancer|heart attack|stroke|depression|anxiety disorder|"
    r"panic disorder|eating disorder|anorexia|bulimia|adhd|insomnia|sleep apnoea|sleep apnea|ibs|crohn'?s|"
    r"colitis|hypertension|high blood pressure|fatty liver|pcos|long covid|burnout|cholesterol|concussion|"
    r"diagnosis|surgery|bypass|chemo(?:therapy)?|prescription|medication|meds|statins?|metformin|insulin|"
    r"ozempic|wegovy|semaglutide|antidepressants?|ssris?|beta.blockers?|blood pressure (?:meds|medication|pills)|"
    r"asthma|(?:preventer |rescue )?inhaler|pneumonia|covid|migraines?|arthritis|eczema|psoriasis|celiac|coeliac|"
    r"thyroid|hashimoto'?s|endometriosis|gestational diabetes|miscarriage|ptsd|ocd|bipolar|acl|herniated disc|"
    r"kidney stones?|cardiac arrest|a?fib|atrial fibrillation|sleep disorder|(?:\w+ )?tumou?r|pre-?eclampsia|"
    r"sertraline|levothyroxine|lexapro|escitalopram|prozac|fluoxetine|zoloft|adderall|lithium|"
    r"(?:\w+ )?(?:op|operation)|transplant|seizures?|epilepsy|ms|multiple sclerosis|lupus|gout|gallstones?)"
)
# Credentials written after a name or before a tip: "— Dana, DPT", "CSCS tip for the week".
_CREDENTIAL = r"(?:dpt|cscs|msc|mph|rdn|rd|rn|lpn|cna|np|pa-c|md|do|phd|dphil|mbbs|frcp|ot|slp|lcsw|ibclc|cpt)"
# Specialists one sees for a condition: "my therapist and I", "my oncologist" (not "my doctor": anyone has one).
_TREATING = (r"(?:therapist|psychiatrist|counsell?or|oncologist|endocrinologist|cardiologist|rheumatologist|"
             r"neurologist|psychologist|hepatologist|nephrologist|gastroenterologist)")
_FORMS = re.compile(
    # a profession claimed: "As a registered dietitian, …" (not "as a doctor once told me"), "I'm a nurse", "MD
    # here", "Certified health coach, 8 years."
    rf"\bas an? (?:[\w-]+ ){{0,3}}?(?P<as>{_PROFESSION})\b(?!'s)(?! (?:friend|once|told|said|says|put it|explained|"
    r"would|will|might|might say|likes to say|reminded))"
    rf"|\b(?:i'?m|i am|i was|i work as|i worked as|i'?ve worked as|i trained as|i'?m trained as) (?!not\b)"
    rf"(?:an? )?(?:[\w-]+ ){{0,3}}?(?P<am>{_PROFESSION})\b(?!'s)"
    rf"|\b(?P<one>{_PROFESSION})\b[^.!?]{{0,20}}\bi'?m one\b"
    rf"|(?:^|[.!?]\s+)(?:[\w-]+ ){{0,2}}(?P<here>{_PROFESSION}) here\b"
    # a title opening the sentence with its years or field: "Certified health coach, 8 years.", "health coach, 8
    # yrs.", "Personal trainer for a decade.", "Board-certified in sleep medicine.", "PhD in nutritional …"
    rf"|(?:^|[.!?]\s+)(?:(?:board-certified|certified|licensed|registered|qualified) )?(?:[\w-]+ ){{0,2}}?"
    rf"(?P<titled>{_PROFESSION})\b(?=\s*(?:,\s*\d|for (?:\d|a |an |over |almost |nearly |(?:two|three|four|five|"
    rf"six|seven|eight|nine|ten|twenty) )|of \d|with \d|\())"
    r"|(?:^|[.!?]\s+)(?P<field>(?:board-certified|certified|licensed|registered|qualified|phd|md|msc|rd|rn)"
    r" (?:in|for)) "
    rf"|(?P<credential>[—–-]\s*[a-z][\w'-]*,\s*{_CREDENTIAL}\b|\b{_CREDENTIAL} (?:tip|life|take|here|thoughts)\b"
    r"|\b(?:did|doing|finished|wrote) my (?:msc|phd|masters?|master's|doctorate|dissertation|thesis)\b"
    r"|\bdoc life\b)"
    # the work itself: "on my rounds", "between appointments at the clinic", "in resus", "post-call", charting
    r"|(?P<work>(?=.*\b(?:i|i'?m|i'?ve|me|my|we|our)\b).*?\b(?:(?:on|during|after|before) (?:my|the|our) (?:ward )?"
    r"rounds|between (?:appointments|patients) at the clinic|in resus|post-call|on call tonight|finished charting|"
    r"(?:med|medical|nursing) students|new patients|our patients|patients? (?:asked|told) me|"
    r"(?:residency|med school|medical school|nursing school) (?:taught|showed|made) (?:me|us)|"
    r"my colleagues (?:on|in|at) the (?:[\w-]+ )?(?:unit|ward|icu|clinic|hospital|practice)))"
    # colleagues of the profession: "my GP colleagues and I", "fellow nurses"
    rf"|\b(?P<fellow>my (?:fellow )?{_PROFESSION} (?:colleagues|coworkers|co-workers)|fellow {_PROFESSION}s)\b"
    # patients, clients, a practice: "my patients", "a client of mine", "in my clinic", "I've treated hundreds"
    r"|\b(?P<practice>my (?:own )?(?:patients?|clients?|caseload|clinic|practice\b(?=\s*(?:[,.;:!?]|$|(?:i|we|"
    r"every|all|most|people|patients|clients|sees?|saw)\b))|ward)|(?:patients?|clients?) of mine"
    r"|i (?:tell|ask|remind|advise|see|saw|treat|coach) (?:every|all|most|many|my) (?:patients?|clients?)"
    r"|i'?ve (?:treated|seen|coached|trained|helped|worked with) (?:over |more than |about )?(?:\d[\d,]*\+?|"
    r"hundreds|thousands|dozens|many|countless|so many) (?:of )?(?:[\w-]+ )?(?:patients|clients|people|women|men|"
    r"athletes|runners|kids|children|adults|folks|lifters)"
    r"|i (?:see|saw|treat|treated|coach|coached|meet|met)\b[^.!?]{0,30}\b(?:patients|clients)"
    r"|(?=.*\b(?:i|we|me|my)\b).*?\b(?:on|in) (?:the|a|our|my) (?:[\w-]+ )?(?:ward|icu|a&e)"
    r"|(?:i|we) (?:work|worked|did|do)\b[^.!?]{0,40}\b(?:shifts?|rotations?) (?:on|in|at) (?:the|a|our) "
    r"(?:[\w-]+ )?(?:ward|icu|er|hospital|clinic)"
    r"|\d+ years (?:in|of) (?:clinical )?(?:practice|medicine|nursing|the er|the icu|a&e)"
    # "they barely taught us nutrition in med school": a school of the professions, in a sentence about us
    r"|(?=.*\b(?:i|we|us|me|my|our)\b).*?\b(?:in|at|during|from|after) (?:med school|medical school|"
    r"nursing school|residency|my residency))"
    # a health history: "I was diagnosed", "my heart attack at 44", "I reversed my type 2 diabetes"
    r"|\b(?P<history>(?:i was|i got|i'?ve been|i have been|i'?d been|i am|i'?m) (?:\w+ )?diagnosed"
    rf"|my (?:own )?{_CONDITION}"
    rf"|i (?:reversed|beat|cured|survived|overcame|live with|have lived with|had|take|am on|'?m on|started|"
    rf"stopped|quit|came off|got off) (?:my |a |an |on )?{_CONDITION}"
    r"|i was (?:hospitali[sz]ed|admitted|in hospital|in the hospital)"
    # "my kids and I both have celiac", "I had pre-eclampsia with my second", "I've had Hashimoto's since 19",
    # "Three years on metformin now.", "I broke my wrist", "Six weeks post gallbladder op", "Month 14 of long covid"
    rf"|(?:i(?:'ve|'d| have)?|we both|we'?ve both|we all) (?:have|had|got|developed|caught) (?:a |an )?"
    rf"(?:[\w-]+ ){{0,3}}?{_CONDITION}"
    rf"|(?:been|years|months|weeks|i'?m|i am|i was|i'?ve been|i started|i was put) on {_CONDITION}"
    r"|(?:broke|fractured|tore|sprained|dislocated|injured|herniated|blew out) my \w+"
    r"|(?:days|weeks|months) post[- ]?(?:op|surgery|[\w-]+ op)\b"
    rf"|(?:month|week|day|year) \d+ (?:of|with) (?:[\w-]+ ){{0,2}}?{_CONDITION}"
    rf"|my (?:first |second |third |last )?pregnancy|my {_TREATING}"
    rf"|(?=.*\b(?:i|me|my)\b).*?\b(?:getting|got|get|received|given) (?:a|an|my) (?:[\w-]+ )?diagnosis"
    rf"|(?:i'?m|i am|as) (?:an? )?(?:type [12] )?(?:diabetic|asthmatic|epileptic|amputee|cancer survivor|"
    rf"wheelchair user|transplant recipient)"
    rf"|(?:^|[.!?]\s+)(?:type [12] )?diabetic (?:for|since)"
    r"|(?=.*\b(?:i|me|my)\b).*?\b(?:days|nights|weeks|months) in (?:the )?(?:hospital|icu|rehab)"
    # "Speaking as someone who reversed their prediabetes", "Survived breast cancer at 38.", "Been living with type
    # 1 diabetes for 20 years."
    rf"|\bas (?:someone|somebody|a person|one) who (?:has |had |'s )?(?:reversed|beat|survived|lived with|lives "
    rf"with|living with|had|has|was diagnosed with|got|manages|managed) (?:their |my |a |an )?(?:\w+ ){{0,2}}?"
    rf"{_CONDITION}"
    # (not "Living with diabetes means …", "Diagnosed with prediabetes? Here's …", "Beat insomnia with …": a
    # subject left out is the writer only in the past or the perfect)
    rf"|(?:^|[.!?]\s+)(?:survived|been living with|in remission from|in recovery from) (?:\w+ ){{0,2}}?{_CONDITION}"
    rf"|\bin recovery from (?:\w+ ){{0,2}}?{_CONDITION})\b",
    re.IGNORECASE,
)
# Names a history or a profession may be spoken of by: what the owner's words must hold for it to be theirs.
_KIND_WORDS = {
    "as": "profession", "am": "profession", "one": "profession", "here": "profession", "titled": "profession",
    "field": "profession", "fellow": "profession", "credential": "profession", "work": "profession",
    "practice": "profession", "history": "history",
}
_ANY_PROFESSION = re.compile(rf"\b{_PROFESSION}s?\b", re.IGNORECASE)
_ANY_CONDITION = re.compile(rf"\b{_CONDITION}\b|\bdiagnosed\b", re.IGNORECASE)


# What the model review reads for a biography the rule does not know (its forms are endless: the held-out set read
# 16 of 40): a sentence in the first person that speaks of health care, a health event or a line of work.
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|my|me|we|we're|we've|our|us|mine)\b")
_CARE = re.compile(
    r"\b(?:patients?|clients?|clinic|practice|hospital|a&e|the er|ward|rounds|diagnos\w*|surger(?:y|ies)|op|"
    r"operation|rehab|meds?|medications?|prescri\w*|tablets|pills|dose|insulin|inhaler|\w+(?:pril|olol|statin|"
    r"azole|mab)|sober|sobriety|recovery|relapse|therapy|therapist|cbt|counsell?ing|pregnan\w*|miscarr\w*|"
    r"postpartum|birth|ferritin|hba1c|a1c|blood pressure|bp|cholesterol|bloods|results?|scans?|mri|biopsy|chemo|"
    r"cancer|tumou?r|diabetes|diabetic|type [12]|condition|disorder|syndrome|disease|injur\w*|broke|broken|"
    r"fractur\w*|torn|wheelchair|crutches|stent|transplant|years (?:as|in|of)|decade (?:as|in|of)|career|coaching|"
    r"coached|trained|certified|licensed|qualified|degree|residency|med school|nursing|colleagues|shifts?|on call|"
    r"lab|students|cohort|athletes|symptoms?|flare\w*|chronic|long covid|asthma|coeliac|celiac|thyroid|"
    r"menopaus\w*|\w+(?:xetine|traline|thyroxine|dipine|formin|azepam|prazole)|lithium|endo|gp|doctor|nurse|dietitian|pharmacist|physio|vet|dentist|hygienist|icu|unit|adhd|"
    r"panic|anxiety|depress\w*|disab\w*|allerg\w*|covid|stimulants?|kidney|liver|heart)\b"
)


def speaks_of_itself(text: str) -> bool:
    """Whether a sentence of ``text`` speaks in the first person of health care, a health event or a line of work:
    the model review reads such a draft for an invented biography (rubric ``invented_identity``)."""
    return any(_FIRST_PERSON.search(s) and _CARE.search(s) for s in split_sentences(fold(text).lower()))


def owner_words(texts: Iterable[str]) -> str:
    """What the owner says of themselves, folded as the gate reads drafts: the account's voice, its voices and
    example posts."""
    return fold(" ".join(texts)).lower()


def _owners(kind: str, claim: str, owner: str) -> bool:
    """Whether the owner's words give the account what the claim says: the very profession or condition, or, for
    patients and clients, any profession."""
    pattern = _ANY_PROFESSION if kind == "profession" else _ANY_CONDITION
    named = {m.group(0).lower().rstrip("s") for m in pattern.finditer(claim)}
    said = {m.group(0).lower().rstrip("s") for m in pattern.finditer(owner)}
    return bool(said) and (not named or bool(named & said))


def invented_identity(text: str, owner: str) -> Rejection | None:
    """A profession, patients or clients, or a health history claimed for the account in ``text`` that
    ``owner`` (``owner_words``) does not give it; None if there is none."""
    for sentence in split_sentences(fold(text)):
        for m in _FORMS.finditer(sentence):
            group = next(g for g in _KIND_WORDS if m.group(g))
            kind = _KIND_WORDS[group]
            if not _owners(kind, m.group(0), owner):
                what = "a health history" if kind == "history" else "a profession, patients or clients"
                return Rejection("identity", f"claims {what} for the account that the owner never gave: "
                                             f"{m.group(0).strip()!r}")
    return None
