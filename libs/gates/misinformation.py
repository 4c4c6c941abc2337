"""Tweets that spread false or dangerous health claims: the ones xbot does not answer (2026-12-07).

Health X's viral tweets are often wrong in ways that hurt people: "throw out the metformin", "sunscreen is
poison", "a 21-day water fast shrank my aunt's tumor", "colloidal silver works on strep". Asked for a reply that
adds an insight or a practical implication, a people-pleasing model goes along with the tweet ("Your body really
does know how to heal"), and the account is then seen endorsing the claim under a post thousands of people read.
A correction would be a fight an automated account cannot follow up with judgment. So such a tweet is no
opportunity: :func:`misinformation` says what kind of claim a tweet (or what it quotes) makes, or None.

Read on the tweet, and on a reply before it goes out (one that repeats the tweet's claim); posts have the medical
gate and the claims gate. What it reads: the medical gate's forms (a dose, a change of medication, a cure claim, a
dangerous practice) plus what a tweet says and a draft should never say: a remedy or a risk denied ("LDL doesn't
cause heart disease"), a safe thing called poison ("sunscreen is POISON"), care attacked ("mammograms cause
cancer", "declined chemo"), practices that harm whoever follows them (borax, sungazing, a parasite cleanse, raw
milk for toddlers), and the conspiracy framing that carries most of them ("oncologists won't tell you", "a cured
patient is a lost customer"). It errs towards leaving a tweet alone: a skipped tweet costs one opportunity. What
it misses the model review reads in the reply (libs/gates/review.py, ``endorses_misinformation``).
"""

from __future__ import annotations

import re
from pathlib import Path

from libs.gates.entities import fold
from libs.gates.medical import _MEDICINES, check_medical_safety
from libs.gates.meaning import Embedder, TextReader, reader
from libs.text.sentences import split_sentences

# What health X calls poison wrongly; alcohol, smoking, mould or carbon monoxide are not in it ("Alcohol is
# literally a toxin your liver has to process" is consensus).
_SAFE_THINGS = (
    r"(?:sunscreens?|spf(?: \d+)?|fluoride|fluoridated water|seed oils?|canola(?: oil)?|vegetable oils?|"
    r"sunflower oil|soy|fruits?|fructose|carbs|grains|wheat|gluten|oats|oatmeal|bananas|spinach|broccoli|beans|"
    r"lectins|oxalates|plants|vegetables|olive oil|milk|dairy|microwaves?|microwaved food|tap water|table salt|"
    r"statins?|metformin|insulin|chemo(?:therapy)?|mammograms?|antibiotics?|antidepressants?|ssris?|"
    r"blood pressure (?:meds|medication|pills)|meds|medication|modern medicine|pasteuri[sz]ation|"
    r"deodorant|antiperspirant|toothpaste|tylenol|acetaminophen|paracetamol|fever reducers?|creatine|running|cardio|"
    r"microwaving(?: food)?|ppis?)"
)
_CALLED_POISON = re.compile(
    rf"\b{_SAFE_THINGS}\s+(?:is|are)\s+(?:literally |pure |basically |just |secretly |actually |an? )*"
    r"(?:(?:industrial |slow |liquid )?poison(?:ous)?|toxic|(?:a )?(?:neuro)?toxins?|carcinogenic|killing (?:you|us)|"
    r"(?:a |the )?(?:biggest )?scam|a racket|a trap|dead (?:food|water)|candy|protective)\b"
    rf"|\b{_SAFE_THINGS}\s+(?:was|were)\s+(?:always|never anything but)\s+(?:a |an )?(?:scam|lie|hoax|poison)\b"
    r"|\bsecretly toxic\b|\bplants are trying to kill you\b",
    re.IGNORECASE,
)
# Care said to cause what it prevents or treats, or to do harm it does not: "Mammograms CAUSE breast cancer",
# "sunscreen gives you cancer", "statins destroy your muscles", "microwaves make food carcinogenic".
_HARMS = (r"(?:cancer|tumou?rs?|heart attacks?|alzheimer'?s|dementia|autism|muscles?|memory|libido|gut|brain|"
          r"diabetes|sick|fat|disease|inflammation|nutrients|carcinogenic|the food|hair loss|kidney failure|"
          r"kidney damage|knees|lymph nodes|heart)")
_CARE_HARMS = re.compile(
    # a harm done ("statins destroy your muscles"), or a harm caused: "causes" names what ("An antibiotic course
    # caused a profound loss of gut microbial diversity" reports a trial, with no harm of the list in reach)
    rf"\b{_SAFE_THINGS}\s+(?:\w+\s+){{0,2}}?(?:destroys?|destroy|rots?|wrecks?|ruins?|blocks? (?:your )?vitamin d|"
    r"makes? (?:it |food |you )?(?:carcinogenic|fat|sick|diabetic))\b"
    rf"|\b{_SAFE_THINGS}\s+(?:\w+\s+){{0,2}}?(?:causes?|caused|gives? you|give you|spreads?)\b(?:\s+\w+){{0,3}}?\s*"
    rf"{_HARMS}\b",
    re.IGNORECASE,
)
# A risk or a cause the evidence holds, denied: "LDL cholesterol doesn't cause heart disease", "Sugar doesn't cause
# cavities", "cholesterol was never the problem", "Dietary cholesterol has zero effect", "8 hours is a myth".
_DENIED = re.compile(
    r"\b(?:ldl|cholesterol|sugar|salt|smoking|blood pressure|hypertension|obesity|sleep deprivation)\b"
    r"(?:\s+\w+){0,2}?\s+(?:doesn'?t|does not|don'?t|do not|never)\s+(?:actually |really )?"
    r"(?:cause|matter|raise|affect|harm|hurt)\b(?!\s+(?:as much|much|for everyone|until|unless|right away))"
    r"|\b(?:cholesterol|ldl|blood pressure|high blood pressure|germs?|fever)\s+(?:was|is|were|are)\s+never\s+"
    r"(?:the|a)\s+problem\b"
    r"|\bhas (?:zero|no) effect on blood cholesterol\b"
    r"|\b(?:sleep is overrated|8 hours (?:of sleep )?is a myth|you don'?t need (?:8|eight|7|seven) hours)"
    r"|\b(?:the )?(?:cholesterol|lipid|germ|saturated fat) (?:theory|hypothesis|myth) (?:is|was) (?:a lie|dead|"
    r"debunked|fake)|\bthe whole field is fake\b|\bbrushing is a (?:marketing|scam)\b"
    r"|\b(?:cholesterol|ldl|high blood pressure|hypertension)\b[^.!?\n]{0,40}\b(?:is a myth|myth pushed|"
    r"is just your body)\b"
    r"|\byou (?:literally )?cannot overdo (?:it|water)\b|\bthe more water the better\b"
    # tuned on the second blind set (2026-12-07): "LDL only matters if …", "high cholesterol in the elderly is
    # PROTECTIVE", "Nobody actually has a 'disorder'", "Seed oils are the #1 cause of chronic disease", "Candida
    # overgrowth is behind almost all chronic fatigue", "Caffeine … ZERO risk of Alzheimer's"
    r"|\b(?:ldl|cholesterol) only matters\b|\b(?:high )?(?:ldl|cholesterol)\b[^.!?\n]{0,30}\bis protective\b"
    r"|\bnobody (?:actually |really )?has (?:an? )?['‘\"]?(?:disorder|depression|adhd|anxiety)"
    r"|\b(?:is|are) (?:behind|the (?:real |root |true |#?1 |number one |main )?causes? of) "
    r"(?:almost |nearly |basically |virtually )?(?:all|every|most|chronic (?:disease|illness))\b"
    r"|\bnever get (?:colds?|ill)\b|\b(?:zero|no) (?:risk|chance) of (?:getting )?(?:alzheimer'?s|dementia|cancer|"
    r"heart disease|diabetes|a heart attack)",
    re.IGNORECASE,
)
# "insulin sensitivity", "statin levels": the body's, not the medicine (the population's "I switched to insulin
# sensitivity and strength training" is a habit).
_NOT_THE_DRUG = r"(?!\s+(?:sensitivity|resistance|levels?|spikes?|response))"
# Care refused or kept from someone: "Declined chemo", "Ditch sunscreen", "Stop taking your kid to get fillings",
# "Skip the doctor", "don't you dare give Tylenol", "Let it run even at 105".
_CARE_REFUSED = re.compile(
    r"\b(?:declined|refused|refusing|refuse|skip(?:ped)?|skipping|said no to|turned down)\s+(?:the\s+)?"
    r"(?:chemo(?:therapy)?|radiation|surgery|treatment|screening|mammograms?|the (?:doctor|dentist)|insulin|"
    r"fillings|antibiotics|sunscreen|the lotion)\b"
    r"|\b(?:ditch|throw (?:out|away)|toss|stop (?:using|wearing|buying))\s+(?:your\s+|the\s+)?(?:\w+\s+)?"
    r"(?:sunscreen|spf|fluoride toothpaste|toothpaste|fluoride|inhaler|epipen|glasses)\b"
    r"|\bstop taking (?:your|the) (?:kids?|child|son|daughter)\b[^.!?\n]{0,30}\b(?:to (?:get|the)|for)\b"
    r"|\b(?:don'?t|do not|never)(?: you dare)? give (?:them |him |her |your kids? )?(?:tylenol|acetaminophen|"
    r"paracetamol|ibuprofen|advil|motrin|antibiotics|fever reducers?)\b"
    r"|\byou (?:won'?t|will not|no longer) need (?:your |any |those |the )?(?:\w+ )?(?:meds|medications?|medicines?|"
    r"pills|insulin|statins?|inhalers?|antidepressants)\b"
    r"|\blet (?:it|the fever) (?:run|ride)\b|\b(?:fever|cavities|cavity) (?:is|are)? ?(?:the body )?heal(?:s|ing)? "
    r"(?:itself|on (?:their|its) own)|\bcavities heal\b|\bburning is (?:just )?(?:detox|good|healthy)\b"
    r"|\b(?:solar callus|get (?:\d+|two|three) hours of (?:midday|noon) sun)\b"
    r"|\b(?:heal|treat|fix|cure)(?:ed)? (?:my |his |her |their |your )?(?:\w+ ){0,2}?(?:uti|strep|ear infections?|"
    r"infections?|pneumonia|cancer|tumou?r)\b[^.!?\n]{0,30}\bwith\b"
    # tuned on the second blind set: a medicine given up or cut in words the medical gate does not read
    rf"|\b(?:got|came|gotten) (?:\w+ )?off (?:of )?(?:all )?(?:my |his |her |their |your )?(?:\w+ ){{0,2}}?"
    rf"{_MEDICINES}\b{_NOT_THE_DRUG}"
    rf"|\b(?:replaced|swapped|switched|traded|threw out|tossed|ditched) (?:my |his |her |their )?(?!to\b)(?:\w+ )?"
    rf"{_MEDICINES}\b{_NOT_THE_DRUG}"
    r"|\b(?:throw|threw|toss|ditch) (?:out |away )?(?:the |your )?(?:ppis?|antacids)\b"
    r"|\bcut (?:his|her|my|their|your) insulin\b|\bbarely need (?:any )?insulin\b"
    r"|\byou don'?t need (?:a pill|pills|meds)\b|\bif your doctor won'?t prescribe\b",
    re.IGNORECASE,
)
# Practices that harm whoever follows them, told as remedies.
_HARMFUL_PRACTICE = re.compile(
    r"\b(?:borax|sungaz\w*|sun gaz\w*|colloidal silver|fenbendazole|ivermectin|parasite cleanse|"
    r"black salve|turpentine|kerosene|chlorine dioxide|\bmms\b|urine therapy|drink(?:ing)? (?:your own )?urine|"
    r"coffee enemas?|castor oil (?:in|on) (?:your )?(?:navel|belly button)|raw liver|bull testicles|"
    r"oregano oil (?:instead|kills|works)|essential oils? (?:instead of|works? better than|kills?)|"
    r"mouth tap\w* (?:cures?|fixe[sd]|fix|treats?|healed)|(?:\d+|seven|ten|fourteen|twenty[- ]one)[- ]day water fast|"
    r"water fast(?:ed|ing)? for (?:\d+|seven|ten|fourteen|twenty[- ]one) days|"
    r"raw milk\b[^.!?\n]{0,60}\b(?:toddlers?|babies|baby|infants?|kids?|children)|"
    r"(?:toddlers?|babies|baby|infants?|kids?|children)\b[^.!?\n]{0,60}\braw milk)\b"
    # pseudoscience sold as care (tuned on the second blind set)
    r"|\b(?:structured|hexagonal|dead) water\b|\balkaline body\b|\bdetox (?:foot )?pads?\b|"
    r"\bpull(?:s|ed|ing)? (?:out )?(?:the )?(?:heavy metals|toxins)\b|\bcandida (?:cleanse|overgrowth)\b|"
    r"\bclogs? your lymph|\bfood (?:just )?rots in your (?:gut|stomach)\b|\bdilutes? your stomach acid\b|"
    r"\bnever drink (?:plain )?water without\b|\bplain water flushes\b|\bgrounding thins\b|"
    r"\bnature'?s (?:metformin|ozempic|xanax|valium|prozac|antibiotic|statin)\b|"
    rf"\b(?:works?|acts?) (?:exactly |just )?like (?:\w+ )?{_MEDICINES}\b"
    r"|\bnothing but (?:raw milk|meat|water|juice)\b|\b(?:only|nothing but) meat\b[^.!?\n]{0,30}\b(?:cured|reversed|"
    r"healed|got off)\b",
    re.IGNORECASE,
)
# The conspiracy framing that carries most of it: a profession or "they" hiding a cure, care as a business.
_CONSPIRACY = re.compile(
    r"\b(?:doctors?|oncologists?|cardiologists?|dentists?|psychiatr(?:y|ists?)|endocrinologists?|dermatologists?|"
    r"the fda|the cdc|the who|big (?:pharma|food|sugar|agra?|medicine)|the (?:medical|pharma|food) industry|"
    r"hospitals|they|nobody|no one)\s+(?:won'?t|will never|doesn'?t want you to|don'?t want you to|refuses? to|"
    r"hides?|hid|buried|went after)\s+(?:ever\s+)?(?:tell|know|talk about|admit|let you|mention|it)\b"
    r"|\bmakes? money (?:keeping|off) (?:you|us|people) sick\b|\bkeeping you sick\b|\bcan'?t be patented\b"
    r"|\ba cured patient is a lost customer\b|\bkickbacks?\b|\b(?:cardiology|oncology|psychiatry|medicine|dentistry|"
    r"the medical system) is (?:a|one big) (?:racket|scam|business|cult)\b|\bjust want(?:s)? to drill\b"
    r"|\bdo your (?:own )?research\b|\bwake up,? (?:people|sheeple)\b|\bthey laughed at me\b"
    r"|\bshare this with (?:anyone|everyone) (?:who has|with) (?:cancer|diabetes|a tumou?r)\b"
    r"|\bwhy (?:do|are) (?:chemo|cancer) patients die\b|\bjust asking questions\b"
    r"|\bcoincidence\s*\?|\b(?:your |the )?(?:labs?|tsh|blood tests?|numbers|doctor) (?:is|are) lying to you\b"
    r"|\b(?:it'?s|that'?s) why (?:\w+ )?cancer rates\b|\bsoaks? (?:straight )?into your bloodstream\b",
    re.IGNORECASE,
)
# A negation that governs the claim in the same clause: "No, seed oils are not poison", "Sunscreen does NOT cause
# cancer", "Fruit is not the reason"; read on the few words before and inside the match.
_NOT = re.compile(r"\b(?:not|no|never|isn'?t|aren'?t|doesn'?t|don'?t|myth:?|false)\b", re.IGNORECASE)

_READERS: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    # (kind, pattern, whether a negation before it clears it)
    ("a safe thing called poison", _CALLED_POISON, True),
    ("care said to harm", _CARE_HARMS, True),
    ("an established risk denied", _DENIED, False),
    ("care refused or kept from someone", _CARE_REFUSED, False),
    ("a harmful practice", _HARMFUL_PRACTICE, False),
    ("the conspiracy framing", _CONSPIRACY, False),
)


def _negated(sentence: str, match: re.Match[str]) -> bool:
    """A "not" inside the claim ("are not poison") or among the four words before it ("Myth: sunscreen causes
    cancer")."""
    before = " ".join(sentence[: match.start()].split()[-4:])
    return bool(_NOT.search(before) or _NOT.search(match.group(0)))


def misinformation(text: str) -> str | None:
    """The kind of false or dangerous health claim a tweet makes, or None. ``text`` is a stranger's tweet."""
    if not text.strip():
        return None
    if (verdict := check_medical_safety(text)) is not None:
        return f"medical advice ({verdict.reason})"
    folded = fold(text)
    for sentence in split_sentences(folded):
        for kind, pattern, clearable in _READERS:
            for m in pattern.finditer(sentence):
                if not (clearable and _negated(sentence, m)):
                    return f"{kind}: {m.group(0)[:60]!r}"
    return None


MODEL_PATH = Path(__file__).with_name("misinformation_model.json")
BY_MEANING = "a false health claim in other words"  # what the model reports: it says that, not which kind


def misinformation_reader(embedder: Embedder | None = None) -> TextReader:
    """Reads tweets for a false health claim: the rule (:func:`misinformation`), and when ``embedder`` is the one the
    model was trained on, the model for what the rule leaves (:data:`BY_MEANING`; ``python -m bench.reader_models
    misinformation`` trains it on the blind sets' false claims against their look-alikes and ~10,000 ordinary
    texts). The rule's words reach the plain forms; the model reads the hedged and the influencer's ones ("Your body
    is designed to heal itself. Every pill you take tells it not to bother.") at the cost of more look-alikes left
    unanswered."""
    return reader(misinformation, MODEL_PATH, BY_MEANING, embedder)


BY_RULE: TextReader = misinformation_reader()  # the rule alone: where no MiniLM embedder is at hand
