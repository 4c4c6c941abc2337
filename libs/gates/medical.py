"""Medical safety: no dose schedules, no advice to stop or swap medication, no cure claims, no crash diets.

The account gives general information, never treatment. Four things make a text medical advice:

- a **dose**: an amount of a drug or supplement with a schedule ("10 mg melatonin nightly", "50,000 IU weekly",
  "3 g of ashwagandha every morning", "half a Xanax nightly") or an order to take it;
- a **change of medication**: stopping, skipping, tapering or swapping a medicine ("ditch your metformin",
  "stop your BP pills", "swap your statin for red yeast rice", "take them off Ritalin");
- a **cure claim**: something cures, reverses, heals or dissolves a disease;
- a **crash diet**: a daily intake under 1,000 calories told to the reader.

A negation only clears a claim when it governs the claim in the same clause ("no supplement cures anxiety"),
not when it is a figure of speech before it ("Not kidding, turmeric cures arthritis", "no joke, fasting cured
my cancer").
"""

from __future__ import annotations

import re

from libs.gates.entities import fold
from libs.gates.verdict import Rejection, Verdict
from libs.text.sentences import split_sentences

# Amounts in digits or in words ("Twenty grams of niacin a day" is a dose as "20 g" is).
_NUMBER = (r"(?:\d+(?:[.,]\d+)*|(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ]?)?"
           r"(?:one|two|three|four|five|six|seven|eight|nine)|ten|eleven|twelve|thirteen|fourteen|fifteen|"
           r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
           r"(?:a |one |two |five )?(?:hundred|thousand)|a dozen|half an?|half|a couple of|a few)")
_DRUG_UNIT = (r"(?:mg|mcg|µg|μg|ug|iu|i\.u\.|ml|cc|milligrams?|micrograms?|units?|drops?|capsules?|caps|pills?|"
              r"tablets?|tabs|softgels?|gummies|shots?|injections?|sprays?|puffs?)")
_DOSE = re.compile(rf"\b{_NUMBER}\s*(?:-|to|–|or)?\s*(?:{_NUMBER})?\s*{_DRUG_UNIT}\b", re.IGNORECASE)
# "a gram of vitamin C every hour": a single gram is a dose too (not "a shot", "a drop": espresso, lemon)
_GRAMS = re.compile(rf"\b(?:{_NUMBER}|an?)\s*(?:-|to|–)?\s*(?:{_NUMBER})?\s*(?:g|grams?|gr)\b", re.IGNORECASE)
# "A teaspoon twice a day" of colloidal silver (with a supplement or medicine named: not of chia seeds).
_SPOONS = re.compile(r"\b(?:\d+|one|two|three|half|an?)\s*(?:tea|table|dessert)spoons?\b|\b(?:tsp|tbsp)\b",
                     re.IGNORECASE)
_SCHEDULE = re.compile(
    r"\b(?:nightly|daily|weekly|monthly|hourly|twice|thrice|once a|per day|a day|each day|every day|a week|"
    r"per week|every (?:morning|night|evening|day|week|hour|other day|\d+ (?:hours?|days?))|each (?:morning|night|"
    r"evening)|before (?:bed|bedtime|sleep|meals)|at bedtime|at night|in the morning|with (?:meals|food)|"
    r"on an empty stomach|x ?/ ?day|for (?:a|one|two|\d+) (?:weeks?|months?)|(?:spread )?through(?:out)? the day|"
    r"at once|at a time|in one go|in one sitting)\b",
    re.IGNORECASE,
)
_TAKE = re.compile(
    r"\b(?:take|taking|takes|dose|dosing|give (?:them|him|her|your (?:kids?|child|son|daughter))|give|"
    r"supplement(?:ing)? with|start (?:on|with)|pop|swallow|inject|microdose|load(?:ing)? (?:up|with)|up your)\b",
    re.IGNORECASE,
)
# Medicines and supplements by name and by the stems their classes share (-statin, -pril, -olol, -oxetine …).
_MEDICINES = (
    r"(?:meds|medications?|medicines?|prescriptions?|pills|drugs|insulin|metformin|statins?|\w+statin|"
    r"\w+pril|\w+sartan|\w+olol|\w+dipine|\w+oxetine|\w+azepam|\w+azolam|\w+prazole|\w+tidine|"
    r"antidepressants?|ssris?|snris?|benzos?|xanax|valium|ambien|zolpidem|sertraline|zoloft|prozac|lexapro|"
    r"levothyroxine|synthroid|thyroid (?:meds|pills|medication)|warfarin|blood thinners?|eliquis|"
    r"ritalin|adderall|methylphenidate|lithium|antipsychotics?|inhalers?|epipen|steroids?|prednisone|"
    r"antibiotics?|chemo(?:therapy)?|radiation|laxatives?|diuretics?|benadryl|diphenhydramine|nyquil|"
    r"sleeping pills?|bp (?:pills|meds)|blood pressure (?:pills|meds|medication)|"
    r"birth control|the pill|painkillers?|opioids?|aspirin|ibuprofen|tylenol|paracetamol|acetaminophen|"
    r"insulin shots|injections|jabs?|treatment|therapy)"
)
_SUPPLEMENTS = (
    r"(?:melatonin|magnesium|ashwagandha|turmeric|curcumin|vitamin [a-k]\d*|zinc|iron|omega-?3|fish oil|"
    r"creatine|berberine|valerian|cbd|thc|kratom|nmn|resveratrol|quercetin|ivermectin|hydroxychloroquine|"
    r"colloidal silver|mms|chlorine dioxide|iodine|potassium|selenium|b12|biotin|collagen|kava|5-htp|"
    r"st\.? john'?s wort|ginkgo|apple cider vinegar|acv|castor oil|hydrogen peroxide|borax|methylene blue|"
    r"niacin|niacinamide|calcium|vitamin b\d+|folic acid|folate|dhea|glutathione|nac|l-theanine|glycine)"
)
# "Ten times the vitamin A", "triple your dose": a megadose told as a multiple, with no unit to find.
_TIMES_THE_DOSE = re.compile(
    rf"\b(?:{_NUMBER}|double|triple|quadruple)(?: times)? (?:the |your |my )?(?:(?:recommended|usual|daily|normal) )?"
    rf"(?:dose|dosage|amount of (?:{_MEDICINES}|{_SUPPLEMENTS})|{_MEDICINES}|{_SUPPLEMENTS})\b",
    re.IGNORECASE,
)
_MED_OR_SUPP = re.compile(rf"\b(?:{_MEDICINES}|{_SUPPLEMENTS})\b", re.IGNORECASE)
_DISEASE = (
    r"(?:cancers?|tumou?rs?|diabetes|type [12](?: diabetes)?|arthritis|alzheimer'?s|dementia|autism|adhd|"
    r"depression|anxiety|leaky gut|lyme(?: disease)?|sepsis|acid reflux|reflux|heart disease|hypertension|"
    r"high blood pressure|asthma|eczema|psoriasis|multiple sclerosis|parkinson'?s|covid|flu|infections?|"
    r"insomnia|ibs|crohn'?s|colitis|obesity|belly fat|fatty liver|kidney disease|thyroid disease|"
    r"hashimoto'?s|lupus|fibromyalgia|migraines?|acne|hair loss|aging|ageing|disease|illness|[a-z]+itis|"
    r"kidney stones?|gallstones?|(?:arterial )?plaque|cysts?|fibroids?|cataracts?|cancer cells|tumou?r cells|"
    r"(?:joint|nerve|liver|kidney|cartilage|heart) damage|utis?|hypothyroidism|hyperthyroidism)"
)
_CHANGE = re.compile(
    rf"\b(?:stop(?:ping|ped)?|quit(?:ting)?|skip(?:ping|ped)?|ditch(?:ing|ed)?|drop(?:ping|ped)?|dump(?:ing|ed)?|"
    rf"toss(?:ing|ed)?|halve|"
    rf"double(?: up on)?|forget(?:ting)?|"
    rf"cancel(?:l?ing)?|refuse|refusing|abandon(?:ing)?|give up|giving up|"
    rf"taper(?:ing)? off|come off|coming off|get off|getting off|wean(?:ing)? off|cut out|throw (?:out|away)|"
    rf"swap(?:ping)?|replace|replacing|switch(?:ing)?|trade|stop needing|no longer need|don'?t need)\s+"
    rf"(?:taking\s+|using\s+)?(?:all\s+)?(?:your|the|their|his|her|my|those|these|that)?\s*(?:\w+\s+){{0,2}}?"
    rf"{_MEDICINES}\b"
    rf"|\b(?:take|get|keep|wean) (?:them|him|her|your (?:kids?|child|son|daughter)|yourself) off (?:of )?"
    rf"(?:their |his |her |your )?(?:\w+\s+)?{_MEDICINES}\b"
    rf"|\b{_MEDICINES} (?:are|is) (?:optional|a crutch|a scam|poison|unnecessary|useless)\b"
    rf"|\bdoesn'?t matter on {_MEDICINES}\b|\bon {_MEDICINES},? (?:\w+ ){{0,3}}doesn'?t matter\b"
    # An order to take a medicine ("chew an aspirin", "take laxatives", "mix two Benadryl with wine").
    rf"|(?:^|[,:;.]\s*|\b(?:and|said|says|just|then|simply)\s+)"
    rf"(?:take|chew|pop|mix|double up on|load up on)\s+(?:an?\s+|some\s+|your\s+|"
    rf"{_NUMBER}\s+)?{_MEDICINES}\b"
    # Telling someone to treat a disease without its medicine: "beat depression without meds" (an order, or
    # "you can …": "some people manage it without medication" reports, it does not advise).
    rf"|(?:^\s*|[,:;]\s*|\byou can\s+|\bhow to\s+)(?:beat|treat|fix|manage|handle|cure|heal|overcome)\s+"
    rf"(?:your\s+)?(?:\w+\s+){{0,2}}?{_DISEASE}\s+"
    rf"without\s+(?:any\s+|your\s+|the\s+)?{_MEDICINES}\b"
    # Swallowing what is not food: "drink a tablespoon of hydrogen peroxide".
    rf"|\b(?:drink|drinking|swallow|ingest|gargle|sip|take)\s+(?:a |an |some |\w+ )?(?:(?:tea|table)spoons?|"
    rf"drops?|capfuls?|shots?|cups?|glass(?:es)?|sips?)?\s*(?:of\s+)?(?:food[- ]grade\s+)?"
    rf"(?:hydrogen peroxide|borax|bleach|mms|chlorine dioxide|turpentine|kerosene|colloidal silver|"
    rf"methylene blue|iodine|essential oils?)\b"
    # A dose changed by the reader ("Cut your dose in half"), a medicine swapped for a supplement ("swapping to St.
    # John's Wort"), found blind on 2026-12-06 (evening).
    rf"|\b(?:cut|halve|lower|reduce|double|raise|increase|skip) (?:your|the|their) (?:\w+ )?(?:dose|dosage)\b"
    rf"|\b(?:swap|swapping|switch|switching) (?:over )?to\s+{_SUPPLEMENTS}\b"
    rf"|\btake (?:\d+|two|three|four|five|six|a handful) (?:of them |of those )?(?:at once|at a time)\b"
    rf"|\bdo(?:es)? what {_MEDICINES} does\b|\bworks? as well as {_MEDICINES}\b|\bbefore you refill\b"
    # Keeping someone from care: "skip the ER", "no need for a doctor", "you don't need a doctor for a UTI", "no
    # need to get it checked", "healed without going through chemo", "better than surgery".
    rf"|\b(?:don'?t|do not|never) need (?:a |to see a |to go to (?:a |the )?)?(?:doctor|gp|urgent care|er|"
    rf"surgery|chemo|antibiotics)\b|\bno need (?:to get (?:it |this )?checked|to see (?:a |your )?doctor|"
    rf"for urgent care)\b|\b(?:without|instead of) (?:going through |having |needing )?(?:chemo|surgery)\b"
    rf"|\b(?:way |much |far )?better than (?:surgery|chemo)\b"
    # A diagnosis from a tweet ("That's textbook hypothyroidism"), a warning sign waved off ("blood in your stool
    # after a run is just runner's gut, nothing to worry about").
    rf"|\bthat'?s (?:textbook|classic|definitely|almost certainly|clearly|obviously) (?:\w+ )?{_DISEASE}\b"
    rf"|\b(?:blood in (?:your|the|my) (?:stool|urine|pee|poop)|chest (?:pain|tightness)|a lump)\b[^.!?\n]{{0,80}}"
    rf"\b(?:nothing to worry about|is (?:just|totally|perfectly) (?:normal|fine|nothing)|almost always just)\b"
    rf"|\b(?:skip|avoid|stay away from|don'?t (?:go to|call)|no need for) (?:the |a |your )?"
    rf"(?:er|a&e|emergency room|hospital|doctor|gp|ambulance|911)\b",
    re.IGNORECASE,
)
# "Choose juicing instead" is medication advice when the text is about a medicine, not when it is about soda.
_INSTEAD = re.compile(r"\b(?:choose|try|use|pick|go with|stick to) [\w\s-]{1,30} instead\b", re.IGNORECASE)
_MEDICINE = re.compile(rf"\b{_MEDICINES}\b", re.IGNORECASE)
# A remedy said to do a medicine's work, in a text that names the medicine: "Insulin? Cinnamon works just as well
# for blood sugar." (2026-12-07)
_AS_GOOD = re.compile(r"\b(?:works?|is|are|does|do) (?:just |every bit |about )?as (?:well|good|effective)\b",
                      re.IGNORECASE)
# A medicine as a drug ("insulin", "statins"), not a therapy: "yoga does about as well as physical therapy" reports
# trials (a good reply the rule refused, tests/data/ordinary_replies.yaml o053).
_DRUG = re.compile(rf"\b(?!(?:treatment|therapy|injections|jabs?)\b){_MEDICINES}\b", re.IGNORECASE)
# A dose recommended without "take": "Melatonin: 10mg is the sweet spot for most adults." (2026-12-07)
_RECOMMENDED = re.compile(
    r"\b(?:sweet spot|(?:ideal|optimal|perfect|right|best|recommended|go-to) (?:dose|amount))\b"
    r"|\b(?:is|are) (?:all you need|plenty|enough)\b|\b(?:start with|stick to|aim for|stick with)\b",
    re.IGNORECASE)
_CLAIM = re.compile(
    rf"\b(?:cur(?:e|es|ed|ing)|heal(?:s|ed|ing)?|revers(?:e|es|ed|ing)|eliminat(?:e|es|ed|ing)|"
    rf"dissolv(?:e|es|ed|ing)|shrink(?:s|ing)?|eradicat(?:e|es|ed|ing)|wipes? out|melts?|kills?|starv(?:e|es|ing)|"
    rf"gets? rid of|fix(?:es|ed)?|clear(?:s|ed|ing)(?: up)?|clears? up|treats?|prevents? all)\b"
    rf"(?:\s+\w+){{0,3}}?\s+{_DISEASE}\b"
    rf"|\bcur(?:e|es|ed|ing)\b"
    rf"|\b{_DISEASE} (?:is|are) (?:curable|reversible) (?:with|by)\b"
    rf"|\b(?:guarantee[sd]?|100% (?:effective|safe|proven)|miracle|never get sick|proven to (?:cure|heal))\b"
    rf"|\b(?:kills?|destroys?|wipes? out) (?:basically |almost |pretty much )?(?:any|every|all) "
    rf"(?:virus(?:es)?|bacteria|infections?|germs|pathogens)\b"
    # A remedy set against a medicine: "garlic beats antibiotic cream", "turmeric works better than chemo".
    rf"|\b(?:beats?|works? better than|better than|outperforms?|as (?:good|effective|strong) as)\s+"
    rf"(?:your |the |any |a |an )?{_MEDICINES}\b"
    rf"|\b(?:clean(?:s|se|ses)?|detox(?:es)?|flush(?:es)?|purif(?:y|ies)) (?:out )?(?:(?:your|the|every|all|any) )?"
    rf"(?:liver|kidneys|colon|body|blood|toxins?|fígado)\b",
    re.IGNORECASE,
)
_CLICKBAIT = re.compile(
    r"\b(?:doctors? (?:hate|don'?t want you to know|won'?t tell you)|"
    r"(?:big pharma|they) (?:doesn'?t|don'?t) want you to know)\b",
    re.IGNORECASE,
)
# Figures of speech that carry a "no"/"not" without negating anything after them.
_IDIOMS = re.compile(
    r"\b(?:not (?:kidding|joking|gonna lie|going to lie|even kidding|exaggerating)|no (?:joke|lie|kidding|cap|"
    r"doubt|wonder|question|exaggeration)|not only|no matter)\b",
    re.IGNORECASE,
)
_NEGATOR = re.compile(
    r"\b(?:no|not|never|nothing|none|neither|nor|cannot|can'?t|won'?t|doesn'?t|don'?t|didn'?t|isn'?t|aren'?t|"
    r"wasn'?t|weren'?t|unlikely to|fails? to|myth that|false that|without)\b",
    re.IGNORECASE,
)
# A very low calorie intake told to the reader ("Eat under 700 calories for fast results", "stick to 600 calories a
# day"): a crash diet, which the eating-disorder terms of the niche name only at 500 and 800. An amount a food or an
# activity has ("a 300-calorie snack", "walking burns 300 calories a day") is no intake, nor is a difference a study
# found ("people ate about 500 kcal a day more").
_CRASH_DIET = re.compile(
    r"\b(?:eat|eating|consume|consuming|stick(?:ing)? to|limit(?:ing)? (?:yourself|it) to|live on|survive on|"
    r"diet of|cut (?:down )?to)\b[^.!?\n]{0,20}?"
    r"(?:\b(?:under|below|less than|only|just|no more than|at most)\s+[1-9]\d{2}\s*(?:k?cals?|calories)\b"
    r"|\b[1-9]\d{2}\s*(?:k?cals?|calories)\s+(?:a|per|each) day\b(?!\s+(?:more|less|extra|fewer)\b))",
    re.IGNORECASE,
)
# Unsafe for who they are: alcohol in pregnancy called fine, a child put on a fast or a restrictive diet. Read on the
# whole text ("Pregnant? A glass of wine a day is fine." is two sentences).
# Practices dangerous whoever does them, told as safe or as a remedy: a dry fast, a multi-day water fast for a
# diabetic, a gallbladder "flush" (found blind on 2026-12-06, evening).
_DANGEROUS = re.compile(
    r"\bdry fast(?:s|ing)?\b|\b(?:\d+|three|four|five|seven)[- ](?:day|hour) water fasts?\b[^\n]{0,80}?\bdiabet"
    r"|\bdiabet\w*[^\n]{0,40}?\b(?:\d+|three|four|five|seven)[- ](?:day|hour) water fasts?\b"
    r"|\b(?:liver|gallbladder|gallstone|olive oil) (?:flush|cleanse)\b|\bflush (?:it|them) out\b"
    r"|\bhydrogen peroxide\b[^\n]{0,40}?\b(?:water|drink|cells)\b",
    re.IGNORECASE,
)
_AT_RISK = re.compile(
    r"\b(?:pregnan\w*|breastfeeding|nursing)\b[^\n]{0,60}?\b(?:wine|alcohol|beer|drinks?|cocktails?)\b[^\n.]{0,40}?"
    r"\b(?:is|are)\s+(?:fine|safe|ok|okay|harmless)\b"
    r"|\bput (?:your |a |the )?(?:toddler|baby|infant|kid|child|children|teen|teenager|son|daughter)s? on "
    r"(?:a |an )?[\w:/-]{0,12}\s?(?:fast|fasting|diet|keto|cleanse|detox|carnivore)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[,;:.!?()\n—–]|\bbut\b|\bhowever\b|\bthough\b", re.IGNORECASE)


def _negated(sentence: str, claim_start: int) -> bool:
    """A negator in the same clause, shortly before the claim: "no food cures", "doesn't reverse"."""
    before = _IDIOMS.sub(" ", sentence[:claim_start])
    clause = _CLAUSE.split(before)[-1]
    words = clause.split()
    return bool(_NEGATOR.search(" ".join(words[-6:])))


def check_medical_safety(text: str) -> Verdict:
    text = fold(text)  # as the other rules read it: "don’t need insulin" is "don't need insulin"
    if m := _AT_RISK.search(text):
        return Rejection("medical_safety", f"unsafe for who it is told to: {m.group(0)[:80]!r}")
    if m := _DANGEROUS.search(text):
        return Rejection("medical_safety", f"a dangerous practice: {m.group(0)[:80]!r}")
    for sentence in split_sentences(text):  # "swapping to St. John's Wort" is one sentence
        shown = sentence.strip()[:80]
        dose = _DOSE.search(sentence)
        grams = _GRAMS.search(sentence)
        named = _MED_OR_SUPP.search(sentence)
        if (dose and (_SCHEDULE.search(sentence) or _TAKE.search(sentence))) or (
            dose and named and _RECOMMENDED.search(sentence)) or (
            grams and named and (_SCHEDULE.search(sentence) or _TAKE.search(sentence))
        ) or (grams and _TAKE.search(sentence)) or (
            _SPOONS.search(sentence) and named and _SCHEDULE.search(sentence)
        ):
            return Rejection("medical_safety", f"dosing instruction: {shown!r}")
        if m := _TIMES_THE_DOSE.search(sentence):
            return Rejection("medical_safety", f"a multiple of a dose: {m.group(0)!r}")
        counted = re.search(rf"\b{_NUMBER}\s+(?:an?\s+)?(?:\w+\s+)?(?:{_MEDICINES}|{_SUPPLEMENTS})\b", sentence,
                            re.IGNORECASE)
        if counted and _SCHEDULE.search(sentence) and not _negated(sentence, counted.start()):
            return Rejection("medical_safety", f"dosing instruction: {shown!r}")
        if ((m := _CHANGE.search(sentence)) or ((m := _INSTEAD.search(sentence)) and _MEDICINE.search(text))
                or ((m := _AS_GOOD.search(sentence)) and _DRUG.search(text))) \
                and not _negated(sentence, m.start()):
            return Rejection("medical_safety", f"medication advice: {shown!r}")
        if (m := _CRASH_DIET.search(sentence)) and not _negated(sentence, m.start()):
            return Rejection("medical_safety", f"crash diet: {shown!r}")
        if m := _CLICKBAIT.search(sentence):
            return Rejection("medical_safety", f"clickbait claim {m.group(0)!r}")
        for m in _CLAIM.finditer(sentence):
            if not _negated(sentence, m.start()):
                return Rejection("medical_safety", f"cure or guarantee claim {m.group(0)!r}")
    return None
