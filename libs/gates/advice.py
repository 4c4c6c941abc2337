"""Questions about a person's own care: the ones xbot does not answer (2026-12-07).

Under a health post people ask about their own case: "I'm on lisinopril, can I do the magnesium thing?", "my A1c
came back 6.1, how worried should I be", "how much melatonin should I give my 6 year old?". A helpful model answers
them ("Reduce your basal by about 20 percent the night before", "A score of 45 at 30 means early plaque … start a
statin"): personal medical advice, from an account whose voice says it never gives any, to someone who may act on
it. The medical gate refuses the plain forms of the answer (a dose, a change of medication), not "At 24 weeks,
short cold showers are generally fine". So the question is not answered: :func:`personal_question` says what a
tweet asks about its writer's (or a relative's) own care, or None.

A question (a question mark, "should I", "is it safe", "how much", "thoughts") about the writer or someone close
("I'm on", "I take", "my dad", "my son is 14", "30M", "Type 1 here") that names their care (a medicine or a dose, a
test result, a condition, pregnancy, a symptom). Questions about people in general ("can people on blood thinners
eat spinach?"), about the evidence, or a person telling of their own care without asking, are answered. It errs
towards leaving a question alone: a question left costs one conversation; what it misses the review reads
(libs/gates/review.py, ``personal_medical_advice``).
"""

from __future__ import annotations

import re
from pathlib import Path

from libs.gates.entities import fold
from libs.gates.meaning import Embedder, TextReader, reader
from libs.gates.medical import _DISEASE, _DOSE, _MEDICINES, _SUPPLEMENTS
from libs.text.sentences import split_sentences

_RELATIVE = (r"(?:son|daughter|kids?|child|children|baby|toddler|teen|mum|mom|mother|dad|father|husband|wife|partner|"
             r"boyfriend|girlfriend|nan|nana|gran|granny|grandma|grandpa|grandmother|grandfather|sister|brother|"
             r"aunt|uncle|friend|parents?|roommate|flatmate|housemate|coworker|colleague)")
# The writer or someone close, as people say it on X.
_WHO = re.compile(
    r"\b(?:i'?m|i am|im|i'?ve|ive|i|me|my|mine)\b|\basking for (?:a friend|my)\b|\b\d{1,3} ?(?:yo|y/o|m|f)\b"
    r"|\b(?:type [12]|t[12]d?)\s+here\b|\b\w+ here\b(?=[.,!]?\s)"
    # the subject dropped ("been having palpitations since …"), or a result given as one's own ("LDL 190, HDL 40")
    r"|(?:^|[.!?]\s+)been (?:having|getting|feeling|on|taking|told)\b"
    rf"|(?:^|[.!?]\s+)(?:on|off) (?:\w+ )?{_MEDICINES}\b|(?:^|[.!?]\s+)(?:just )?(?:had|got) (?:a|an|my)\s"
    r"|(?:^|[.!?]\s+)(?:started|stopped)\s"
    # fourth set (2026-12-07, health talk): a plan with the subject dropped, the first person in the audience's
    # other languages
    r"|(?:^|[.!?]\s+)(?:want|wanna|trying|planning|thinking of|about) to (?:try|take|start|stop|use)\b"
    r"|\b(?:ich|mein|meine|meinem|meiner|tengo|estoy|meu|minha|meus|minhas|estou|je suis|j'ai)\b"
    r"|\b(?:a1c|hba1c|ldl|hdl|trigs|triglycerides|tsh|egfr|ferritin|inr|psa|cholesterol|(?:fasting )?glucose|"
    r"blood sugar|bp|blood pressure|calcium score|resting heart rate|vitamin d)\s*(?:is|was|of|at|came back|:)?\s*"
    r"\d",
    re.IGNORECASE,
)
# Their care: a medicine, a supplement taken, a dose, a result, a condition, a pregnancy, a symptom.
_CARE = re.compile(
    rf"\b{_MEDICINES}\b|\b{_SUPPLEMENTS}\b|{_DOSE.pattern}|\b{_DISEASE}\b"
    r"|\b(?:a1c|hba1c|ldl|hdl|trigs|triglycerides|tsh|t4|egfr|ferritin|inr|psa|cholesterol|glucose|blood sugar|"
    r"blood pressure|bp|calcium score|resting heart rate|heart rate|hr|labs?|bloods|blood ?work|results|levels?|"
    r"readings?|scan|biopsy)\b|\b\d{2,3}/\d{2,3}\b"
    r"|\b(?:pregnan\w*|breastfeeding|nursing|postpartum|\d+ weeks|ttc|ivf|perimenopaus\w*|menopaus\w*)\b"
    r"|\b\d{3,4} ?(?:cals?|calories|kcal)\b"
    r"|\b(?:afib|a-fib|pots|epilepsy|seizures?|heart failure|stents?|pacemaker|ibs|ibd|celiac|coeliac|pcos|"
    r"osteoporosis|bipolar|adhd|ocd|ptsd|kidney disease|ckd|gout|hypo|hypos|sleep apnea|sleep apnoea|"
    r"prediabet\w*|diabet\w*|type [12]|t[12]d|asthma|copd|allerg\w*|arrhythmia|stroke|tia|heart attack)\b"
    # tuned on the second set: an operation, a minor's age, the gut's own signs
    r"|\b(?:removal|surgery|post-?op|operation|transplant|bypass|c-section|replacement)\b"
    r"|\b(?:i'?m|im|i am) 1[0-7]\b|\b\d+[- ]?(?:hour|day) fast\b"
    r"|\b(?:poo|poop|stool|urine|pee|constipat\w*|diarrh\w*)\b"
    # tuned on the third set: injuries and operations, findings, units, allergies, the pill
    r"|\b(?:tore|torn|fractured?|broke|broken|sprain\w*|acl|mcl|meniscus|fusion|reconstruction|cast|sleeve|gastric|"
    r"hernia|ultrasound|finding|diagnos\w*|pacemaker|epi ?pen|allergic|\w+ifen|lupus|ms|ra|cf|eds|af|ckd|"
    r"vit(?:amin)? [a-k]\d*|iu|ng/ml|nmol/l|mmol/l|mg/dl|the pill|numbers|multi(?:vitamin)?s?|restrict\w*)\b"
    r"|\b(?:1[0-7] ?(?:yo|y/o|years? old)|\d+ months)\b"
    r"|\b(?:palpitations?|flutters?|racing|races|pounding|dizz\w*|faint\w*|light-?headed|out of breath|"
    r"breathless\w*|short of breath|swollen|swelling|rash|hives|numb(?:ness)?|tingl\w*|chest (?:pain|tightness)|"
    r"blood in|lump|headaches?|migraines?|nause\w*|vomit\w*|can'?t keep \w+ down|stops? breathing|snor\w*|"
    r"drenched|night sweats|cramps?|bloat\w*|reflux|heartburn|insomnia|exhausted|fatigue)\b"
    # fourth set (2026-12-07, health talk): the newer medicines people ask about, tests, what a long illness leaves,
    # the audience's other languages
    r"|\b(?:ozempic|wegovy|mounjaro|zepbound|semaglutide|tirzepatide|saxenda|liraglutide|glp-?1|accutane|"
    r"isotretinoin|melatonin|echo|stress test|covid|long covid|winded|insulin resistance|fibromyalgia|"
    r"ces[aá]rea|c[eé]sarienne|kaiserschnitt|cicatriz|cirug[ií]a|cirurgia|operaci[oó]n|zahn-?op|"
    r"fibromialgia|diabetes tipo \d|diab[eè]te|presi[oó]n alta|press[aã]o alta|infarto|ictus|derrame|"
    r"libre|dexcom|cgm|fingersticks?|omnipod|stitches|pvcs?|holter|symbicort|ventolin|albuterol|salbutamol|"
    r"inhaler|advair|swell(?:s|ing)?|seizure)\b",
    re.IGNORECASE,
)
# Asking: a question mark, or the forms a question about one's own case takes without one.
_ASKS = re.compile(
    r"\?|\b(?:should i|should (?:he|she|they|we)|can i|could i|do i need|is it (?:safe|ok|okay|fine|normal|bad|"
    r"dangerous)|how much|how many|what dose|thoughts|any advice|need advice|help me|any tips for my|panic or chill|"
    r"dms? (?:are )?open|in your opinion|should (?:i )?worry|is (?:that|this) (?:a problem|bad|"
    r"normal|dangerous|serious|something)|(?:safe|ok|okay|fine|too much) (?:for|with|on) (?:me|him|her|us|them|my)|"
    r"(?:safe|ok|okay|fine) with|(?:mess|interfere|clash|interact) with|does (?:that|this|it) mean|will i|"
    r"would i|am i|can (?:you|i) take|is it ok to|how do i|safely|or something (?:else|worse|serious)|"
    r"(?:could|would|will) (?:this|that|it|the)|is (?:that|this|it) just|won'?t hurt|right\s*\?|"
    r"(?:ok|okay|safe|fine) to|when can i|what now|should i let|too much|legit|worth it|or nah|y/n|in my shoes|"
    r"relevant for|harmful|(?:make|making) (?:it|her|him|me|them) worse|trigger|clash|interact|interfere|"
    r"does (?:that|this|it) (?:change|matter|affect)|(?:work|right|enough) for (?:me|him|her|us))\b"
    # a question without its mark: a sentence that opens as one ("Is deadlifting ever back on the table for me")
    r"|^(?:is|are|can|could|should|do|does|did|would|will|am)\b"
    r"|[,;:]\s*(?:is|are|can|could|should|do|does|would|will) (?:the|this|that|it|i|my|a|an|he|she)\b"
    r"|\b(?:qu[eé] (?:le |me )?(?:puedo|debo|podr[ií]a)|alguma dica|algum conselho|alg[uú]n consejo|darf ich|"
    r"soll ich|kann ich|est-ce que|puis-je|posso|puedo|any (?:\w+ )?tips)\b",
    re.IGNORECASE,
)
# A question about people in general or about the research, with a person's words around it: "can people on
# blood thinners eat spinach? asking bc my biology class argued about it", "Is there a study behind this?".
_GENERAL = re.compile(
    r"\b(?:people|someone|anyone|patients|adults|women|men|folks|those)\s+(?:on|with|who)\b"
    r"|\b(?:studies|study|trials?|research|evidence|papers?|data|literature|textbook)\b",
    re.IGNORECASE,
)


def personal_question(text: str) -> str | None:
    """What a tweet asks about its writer's or a relative's own care ("asks about their own care: …"), or None.

    Read question by question, each with the sentences either side of it ("Is 2000 IU of vitamin D too much for
    me? I'm on levothyroxine", the two before it): a question mark alone asks nothing of the care beside it
    ("Honestly? I can't recommend magnesium enough."), nor does a question to the poster about theirs ("What dose
    were you taking?")."""
    folded = fold(text).replace("’", "'")
    sentences = split_sentences(folded)
    for i, sentence in enumerate(sentences):
        if not _ASKS.search(sentence):
            continue
        bare_mark = not _ASKS.search(sentence.replace("?", " "))
        asked_after = i and (_ASKED_AFTER.search(sentence) or len(sentence.split()) >= 3)
        if bare_mark and not (_WHO.search(sentence) or _CARE.search(sentence) or asked_after):
            continue
        if _TO_THE_POSTER.search(sentence) and not _FIRST_PERSON.search(sentence):
            continue
        window = " ".join(sentences[max(0, i - 2): i + 2])
        care = _CARE.search(window)
        relative = _RELATIVE_NAMED.search(window)
        if care is None or not (_WHO.search(window) or relative or _BARE.search(window)):
            continue
        if _GENERAL.search(window) and not (_OWN_CARE.search(window) or relative):
            continue
        return f"asks about their own care: {care.group(0)!r}"
    return None


# A question after the case was told, with no word of it in the question: "… 2 months post covid. just patience?"
# (a question word, or three words or more: "any easy snacks she might like?"; not "… Agree?", "Week 3?")
_ASKED_AFTER = re.compile(r"(?:^|[,;]\s*)(?:any|anything|what|which|how|when|where|just|c[oó]mo|qu[eé])\b",
                          re.IGNORECASE)
_RELATIVE_NAMED = re.compile(rf"\bmy (?:\w+ )?{_RELATIVE}\b|\b(?:for|give) (?:him|her|them)\b"
                             r"|\b(?:gf|bf|missus|hubby|the wife|the husband|my old man|lil one|bub)\b"
                             # a sentence opened by the person ("husband snores …", "brother's got a pacemaker")
                             rf"|(?:^|[.!?]\s+){_RELATIVE}(?:'s)?\s"
                             r"|\b(?:mi|mis|minha|meu|mein|meine|ma|mon) (?:pap[aá]|mam[aá]|m[aã]e|pai|madre|padre|"
                             r"hij[oa]|filh[oa]|mutter|vater|mann|frau|sohn|tochter|m[eè]re|p[eè]re|mari|femme|"
                             r"abuel[oa]|av[oó]|esposo|esposa|marido)\b", re.IGNORECASE)
# A question to the poster about the poster ("what brand are you using?") or to the readers ("Would you try it?"),
# unless the writer is in it (or it is "can you take …", said of anyone).
_TO_THE_POSTER = re.compile(r"\b(?:are|were|do|did|have|would|will) you\b|\byou(?:'re| are)? (?:using|taking|on)\b"
                            r"|\bwhat'?s your\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i'?m|im|me|my|i'?ve|ive)\b|\bcan you take\b|\basking for\b"
                           r"|\b(?:type [12]|t[12]d?)\s+here\b", re.IGNORECASE)


# The writer's own care in words a general question does not use: "I'm on", "I take", "my meds".
_OWN_CARE = re.compile(
    r"\b(?:i'?m|im|i am|i'?ve been|ive been|been) (?:on|taking|prescribed|pregnant|diagnosed)\b|\bi (?:take|have|had)\b"
    r"|\bmy (?:\w+ )?(?:meds|medication|dose|doctor|gp|results|levels|labs|bloods|numbers|a1c|bp)\b|\(me\)",
    re.IGNORECASE,
)
# A bare question about the writer's own medicine: "safe on warfarin?", "ok with metformin?".
_BARE = re.compile(rf"\b(?:safe|ok|okay|fine|good)\s+(?:on|with)\s+(?:\w+\s+)?{_MEDICINES}\s*\?", re.IGNORECASE)


MODEL_PATH = Path(__file__).with_name("advice_model.json")
BY_MEANING = "asks about their own care in other words"  # what the model reports


def personal_question_reader(embedder: Embedder | None = None) -> TextReader:
    """Reads tweets for a question about the writer's own care: the rule (:func:`personal_question`), and when
    ``embedder`` is the one the model was trained on, the model for what the rule leaves (:data:`BY_MEANING`;
    ``python -m bench.reader_models advice`` trains it on the blind sets' questions against their look-alikes and
    ~10,000 ordinary texts). The rule's words reach the forms it was tuned on; the model reads some of the rest
    ("Zoloft 100mg + the 5-HTP you mentioned, too much?", "just got diagnosed with PCOS. inositol, 2g or 4g to
    start?"), not all ("Eliquis and ginkgo y/n")."""
    return reader(personal_question, MODEL_PATH, BY_MEANING, embedder)


BY_RULE: TextReader = personal_question_reader()  # the rule alone: where no MiniLM embedder is at hand
