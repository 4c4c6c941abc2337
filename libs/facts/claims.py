"""The claims gate: a draft may state a number, a study or a named institution only when a fact it was given
supports it.

Support is two checks on the sentence that makes the claim: the number is one the fact states (numbers compared
as a reader would, see libs.facts.numbers), and the sentence says what the fact says (embedding similarity to the
fact's claim or quote at least the threshold for the embedder's kind). A named institution must also be named by
the fact (its source, quote or address), and a study's year must be the fact's.

Pure: the planner calls ``check_claims(parts, provided_facts, embedder)`` and maps the result onto its own
Rejection (same two fields). ``drop_unsupported`` is the repair: the same draft without the sentences that carry
an unsupported claim (a model's invented statistic is most often one sentence added to an otherwise good draft);
the planner decides whether what is left is still the post it asked for, and gates it again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from libs.facts.model import Fact
from libs.facts.numbers import Quantity, is_year, quantities, supported_by, years
from libs.niche import FactsConfig
from libs.text import Embedder, normalise
from libs.text.sentences import split_sentences

GATE = "claims"
# How close (a share of the support threshold) a claim's sentence must be to a fact by itself before the tweet
# around it may count as the claim's context.
SENTENCE_FLOOR = 0.6
# Fewer words than this: a fragment (a citation split at its abbreviations), read in its tweet whatever its own
# closeness.
FRAGMENT_WORDS = 6
CITATION_SHARE = 0.6
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ClaimRejection:
    """Same shape as the planner's Rejection: the gate's name and a reason naming the unsupported claim."""

    gate: str
    reason: str


@dataclass(frozen=True)
class Claim:
    """One checkable statement in a draft: what kind, the words that make it, and the sentence it is in."""

    kind: str  # "number", "study" or "institution"
    text: str
    sentence: str
    start: int = 0  # where in the sentence it begins
    quantity: Quantity | None = None
    context: str = ""  # the whole part (tweet) the sentence is in


# ---------------------------------------------------------------- finding claims

# "A 2023 Harvard study", "researchers found", "a new meta-analysis", "according to a survey", "studies show".
_STUDY = re.compile(
    r"\b(?:(?:a|an|one|new|recent|landmark|major|large|huge|small|\d{4}|published)\s+)?"
    r"(?:[\w.&'-]+\s+){0,3}?"
    r"(?:study|studies|trial|trials|meta-analysis|meta-analyses|systematic\s+review|survey|surveys)\b"
    # "Researchers in Denmark tracked …", "Neuroscientists have shown", "Doctors now agree", "Sleep scientists call
    # it …", "Dietitians swear by …" (2026-12-07: a finding or a consensus put in a profession's mouth)
    r"|\b(?:researchers|scientists|neuroscientists|investigators|experts|epidemiologists|doctors|physicians|"
    r"cardiologists|dermatologists|endocrinologists|gastroenterologists|psychiatrists|psychologists|"
    r"dietitians|nutritionists)\s+(?:(?:at|in|from)\s+[\w\s]{1,40}?\s+)?"
    r"(?:(?:have|has|now|all|also|widely|generally|increasingly|largely|mostly)\s+){0,2}"
    r"(?:found|find|show|showed|shown|discovered|report|reported|say|said|concluded|observed|noted|estimate|"
    r"agree|agreed|recommend|warn|believe|call|tracked|followed|studied|measured|compared|tested|analy[sz]ed|"
    r"swear\s+by|now\s+know|know)\b"
    # studies by other names: "an RCT found", "a large cohort of nurses", "a recent paper in Cell", "new findings",
    # "a review in Sleep Medicine", "statistically, …"
    r"|\bRCTs?\b|(?<!\bmy\s)(?<!\bour\s)\bcohorts?\s+(?:of|study|studies|data)\b|\bin\s+(?:a|one|the)\s+"
    r"(?:[\w-]+\s+){0,2}?cohort\b"
    r"|\b(?:a|one|new|recent|the|this)\s+(?:[\w-]+\s+){0,2}?(?:paper|review)\s+(?:in|from|out\s+of|published|"
    r"found|finds|showed|shows|suggests|concluded)\b"
    r"|\b(?:new|latest|recent|published|emerging)\s+(?:[\w-]+\s+)?findings\b"
    r"|\bfindings\s+(?:from|show|showed|suggest|suggested|out\s+of|published|link|linked|tie|tied)\b"
    r"(?!\s+(?:my|our)\b)"
    r"|\bstatistically\b"
    # "It's been proven that …", "clinically proven", "scientifically shown to": a finding claimed without one
    r"|\b(?:(?:it(?:['’ʼ]s| is| has)|has|have|is|are|was|were)\s+(?:been\s+)?(?:scientifically|clinically|medically)?"
    r"\s*proven|(?:scientifically|clinically|medically)\s+(?:proven|shown|tested))\b"
    r"|\bresearch\s+(?:shows|showed|suggests|suggested|found|finds|says|proves|proved|links|linked|ties|tied)"
    # a risk multiplied without a figure: "doubles your risk of a cold", "twice as likely", "cuts the risk in half"
    # (not advice: "half as much sugar")
    r"|\b(?:doubles?|doubled|doubling|triples?|tripled|quadruples?|halves|halved)\s+(?:your|the|their|a\s+person's)"
    r"\s+(?:risk|chances?|odds|likelihood)\b|\b(?:twice|half)\s+as\s+likely\b"
    r"|\bcuts?\s+(?:your|the|their)\s+(?:risk|chances?|odds)\s+(?:in|by)\s+half\b"
    r"|\bdata\s+(?:show|shows|showed|suggest|suggests|backs?|ties|tied|links|linked|supports?|confirms?)\b"
    r"|\b(?:science|evidence)\s+(?:shows|says|proves|suggests|indicates|points|supports|confirms|backs)\b"
    # a share said without its figure: "the majority of heart attacks", "most adults", "millions of people",
    # "nearly everyone over 40" ("most people" is how opinions open, and is left to the review)
    r"|\b(?:the\s+)?(?:vast\s+)?majority\s+of\s+(?!my\b|our\b|your\b|the\s+time\b)"
    r"|\bmost\s+(?:us\s+|u\.s\.\s+|american\s+|british\s+|uk\s+)?(?:adults|americans|britons|brits)\b"
    r"|\b(?:millions|billions)\s+of\s+(?:people|adults|americans|britons|children|kids|women|men|patients)\b"
    r"|\b(?:nearly|almost|virtually|practically)\s+(?:everyone|everybody|every\s+adult|all\s+adults)\b"
    # "The evidence is clear: …", "boosts sleep quality threefold" (2026-12-07: a finding, or a multiplied effect,
    # claimed without its figure's source)
    r"|\b(?:the\s+)?(?:science|evidence|research|data)\s+(?:is|are)\s+(?:clear|in|settled|conclusive)\b"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|a\s+hundred|\d+)-?fold\b"
    r"|\bpublished\s+in\b",
    re.IGNORECASE,
)
_ACCORDING_TO = re.compile(r"\b[Aa]ccording to (?:(?:a|an|the|new|recent)\s+)?(?:[A-Z][\w&'-]*\s?)+")
# Words that look like study talk and claim nothing.
_NOT_A_STUDY = re.compile(
    r"\b(?:case\s+study|study\s+(?:your|the\s+way|it|them|hard|for|up|session|sessions|group|groups|break|"
    r"breaks|buddy|buddies|guide|notes|hall|habits|room)|to\s+study|trial\s+and\s+error|"
    r"free\s+trial)\b",
    re.IGNORECASE,
)

# Named institutions, journals and public bodies. Each name maps to the spellings a fact may use for it.
INSTITUTIONS: dict[str, tuple[str, ...]] = {
    "WHO": ("world health organization", "world health organisation", "who int", "who"),
    "World Health Organization": ("world health organization", "world health organisation", "who int"),
    "CDC": ("cdc", "centers for disease control"),
    "Centers for Disease Control": ("cdc", "centers for disease control"),
    "NIH": ("nih", "national institutes of health", "nih gov"),
    "National Institutes of Health": ("nih", "national institutes of health"),
    "NHS": ("nhs",),
    "FDA": ("fda", "food and drug administration"),
    "USDA": ("usda", "department of agriculture"),
    "EFSA": ("efsa", "european food safety authority"),
    "AHA": ("aha", "american heart association", "ahajournals"),
    "American Heart Association": ("american heart association", "ahajournals"),
    "AASM": ("aasm", "american academy of sleep medicine"),
    "American Academy of Sleep Medicine": ("american academy of sleep medicine", "aasm"),
    "NHLBI": ("nhlbi", "national heart lung and blood institute"),
    "NIMH": ("nimh", "national institute of mental health"),
    "Institute of Medicine": ("institute of medicine", "national academies"),
    "National Academies": ("national academies", "institute of medicine"),
    "Harvard": ("harvard",),
    "Stanford": ("stanford",),
    "Yale": ("yale",),
    "Oxford": ("oxford",),
    "Cambridge": ("cambridge",),
    "Johns Hopkins": ("johns hopkins",),
    "Mayo Clinic": ("mayo clinic",),
    "Cleveland Clinic": ("cleveland clinic",),
    "MIT": ("mit", "massachusetts institute of technology"),
    "UCLA": ("ucla",),
    "Lancet": ("lancet",),
    "NEJM": ("nejm", "new england journal of medicine", "n engl j med"),
    "New England Journal of Medicine": ("nejm", "new england journal of medicine", "n engl j med"),
    "JAMA": ("jama",),
    "BMJ": ("bmj",),
    "PLOS": ("plos",),
    "Nature": ("nature",),
    "Circulation": ("circulation",),
    "Cell Metabolism": ("cell metabolism", "cell metab"),
}
_KNOWN = re.compile(
    # "NIH-funded", "WHO-backed": the name before a hyphen is named too
    r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in sorted(INSTITUTIONS, key=len, reverse=True)) + r")(?!\w)"
)
# Names built like institutions: "University of Otago", "Karolinska Institute", "Brigham Young University".
_NAMED = re.compile(
    r"\b(?:University|College|Institute|School)\s+of\s+(?:[A-Z][\w'-]+\s?){1,4}"
    r"|\b(?:[A-Z][\w'-]+\s+){1,4}(?:University|Institute|Institutes|Clinic|Hospital|Foundation|"
    r"Academy|Association|Society|Council|Agency|Department|Ministry|Centre|Center|School|College)\b"
    # a named authority quoted: "Dr. Andrew Huberman says …" puts words in a real person's mouth
    r"|\b(?:Dr|Prof|Professor)\.?\s+(?:[A-Z][\w'-]+\s?){1,3}"
    # and by a profession before the name: "Sleep expert Matthew Walker says …", "neuroscientist Andrew Huberman"
    r"|(?:(?<=expert\s)|(?<=scientist\s)|(?<=researcher\s)|(?<=doctor\s))(?:[A-Z][\w'-]+\s?){2,3}"
)
# Matched case-sensitively: "WHO" is the body, "who" a pronoun.


def sentences(text: str) -> list[str]:
    """A text's sentences (and lines), in order."""
    return split_sentences(text)


def _institutions(sentence: str) -> list[tuple[str, int]]:
    names: list[tuple[str, int]] = []
    for m in _KNOWN.finditer(sentence):
        if m.group(0) == "Nature" and m.start() == 0:
            continue  # "Nature heals" opens a sentence; the journal is named mid-sentence
        names.append((m.group(0), m.start()))
    for m in _NAMED.finditer(sentence):
        name = m.group(0).strip()
        if not any(name in n or n in name for n, _ in names):
            names.append((name, m.start()))
    return names


def _study(sentence: str) -> re.Match[str] | None:
    if _NOT_A_STUDY.search(sentence):
        return None
    return _STUDY.search(sentence) or _ACCORDING_TO.search(sentence)


def find_claims(text: str) -> list[Claim]:
    """Every number, study and named institution a reader would take as a factual claim, in reading order.
    A year inside a study phrase ("a 2023 study") is part of that study claim, not a number of its own."""
    claims: list[Claim] = []
    for sentence in sentences(text):
        found: list[Claim] = []
        study = _study(sentence)
        if study:
            found.append(Claim("study", study.group(0).strip(), sentence, study.start(), context=text))
        for q in quantities(sentence):
            if study and is_year(q) and study.start() <= q.start < study.end():
                continue
            found.append(Claim("number", q.text, sentence, q.start, q, context=text))
        for name, start in _institutions(sentence):
            found.append(Claim("institution", name, sentence, start, context=text))
        claims.extend(sorted(found, key=lambda c: c.start))
    return claims


# ---------------------------------------------------------------- support


def _fact_text(fact: Fact) -> str:
    return normalise(f"{fact.source} {fact.url} {fact.quote} {fact.claim}")


def _names_institution(fact: Fact, name: str) -> bool:
    spellings = INSTITUTIONS.get(name) or (normalise(name),)
    haystack = f" {_fact_text(fact)} "
    return any(f" {normalise(s)} " in haystack for s in spellings)


def _threshold(embedder: Embedder, thresholds: Mapping[str, float] | None) -> float:
    table = thresholds if thresholds is not None else FactsConfig().support_min_similarity
    try:
        return table[embedder.kind]
    except KeyError:
        raise ValueError(
            f"no claims support threshold for embedder kind {embedder.kind!r}: add it to "
            f"facts.support_min_similarity in the niche file (known: {', '.join(sorted(table))})"
        ) from None


def _similarities(texts: list[str], facts: Sequence[Fact], embedder: Embedder) -> np.ndarray:
    """(texts × facts): each text's cosine to the closer of a fact's claim and quote."""
    if not texts or not facts:
        return np.zeros((len(texts), len(facts)), dtype=np.float32)
    t = embedder.embed(texts)
    # The facts' sentences are the same few hundred for every draft: the embedder's cache answers them.
    claims = embedder.embed([f.claim for f in facts])
    quotes = embedder.embed([f.quote for f in facts])
    best: np.ndarray = np.maximum(t @ claims.T, t @ quotes.T)
    return best


def _supports(fact: Fact, claim: Claim) -> bool:
    if claim.kind == "number":
        assert claim.quantity is not None
        # The source's own name and date travel with the fact in the prompt ("WHO fact sheet N°394, May 2017"): a
        # draft that cites them states nothing the fact does not.
        source_numbers = quantities(fact.quote, derive_ratio_complements=True) + quantities(fact.source)
        if is_year(claim.quantity):
            year = int(claim.quantity.value)
            return fact.year == year or year in years(fact.quote) or supported_by(claim.quantity, source_numbers)
        return supported_by(claim.quantity, source_numbers)
    if claim.kind == "institution":
        return _names_institution(fact, claim.text)
    # A study claim rests on any fact the sentence matches; a year in it must be that fact's.
    named_years = years(claim.text)
    return not named_years or fact.year in named_years


def unsupported_claims(
    parts: Sequence[str],
    provided_facts: Sequence[Fact],
    embedder: Embedder,
    *,
    min_similarity: Mapping[str, float] | None = None,
) -> list[Claim]:
    """The draft's claims that no provided fact supports, in reading order."""
    claims = [c for part in parts for c in find_claims(part)]
    if not claims:
        return []
    threshold = _threshold(embedder, min_similarity)
    # A sentence is read in its tweet: "The target is at least 30g." means little alone, much after the
    # sentence before it. The closer of the two decides, provided the sentence is a fragment (a piece of a
    # citation: "(Harvard T.H.") or alone at least SENTENCE_FLOOR of the way there: else an invented sentence
    # beside a fact borrows the fact's closeness ("… hazard ratio 0.26 (Li et al.). Studies show that 78% of
    # people with strong friendships lived longer.", the 78 read off the fact's confidence interval, was queued
    # by the planner benchmark).
    texts = list(dict.fromkeys([*(c.sentence for c in claims), *(c.context for c in claims)]))
    sims = _similarities(texts, provided_facts, embedder)
    row = {t: i for i, t in enumerate(texts)}
    unsupported = []
    cited = {w for f in provided_facts for w in _WORD.findall(f.source.lower())}
    for claim in claims:
        own = sims[row[claim.sentence]]
        words = _WORD.findall(claim.sentence.lower())
        # A fragment: a few words, or a piece of a fact's citation split at its abbreviations ("(Harvard T.H.",
        # "Chan School of Public Health), Circulation 2018").
        fragment = len(words) < FRAGMENT_WORDS or sum(w in cited for w in words) >= CITATION_SHARE * len(words)
        # A study said to show something states it in its own sentence ("It's been proven that people who climbed
        # stairs daily lowered their heart disease risk."): read alone unless a fragment, it cannot borrow the
        # closeness of the real fact beside it (queued by the planner benchmark, 2026-12-07).
        borrows = fragment | ((own >= SENTENCE_FLOOR * threshold) & (claim.kind != "study"))
        best = np.where(borrows, np.maximum(own, sims[row[claim.context]]), own)
        close = [f for j, f in enumerate(provided_facts) if best[j] >= threshold]
        if not any(_supports(f, claim) for f in close):
            unsupported.append(claim)
    return unsupported


def check_claims(
    parts: Sequence[str],
    provided_facts: Sequence[Fact],
    embedder: Embedder,
    *,
    min_similarity: Mapping[str, float] | None = None,
) -> ClaimRejection | None:
    """None when every number, study and named institution in the draft is supported by a provided fact;
    otherwise a rejection naming the first unsupported claim (and how many there are)."""
    unsupported = unsupported_claims(parts, provided_facts, embedder, min_similarity=min_similarity)
    if not unsupported:
        return None
    first = unsupported[0]
    label = "study claim" if first.kind == "study" else first.kind
    sentence = first.sentence if len(first.sentence) <= 90 else first.sentence[:87] + "…"
    more = f" (and {len(unsupported) - 1} more)" if len(unsupported) > 1 else ""
    return ClaimRejection(
        GATE, f"unsupported {label} {first.text!r} in {sentence!r}: no provided fact states it{more}"
    )


_BLANKS = re.compile(r"[ \t]{2,}")


def drop_unsupported(
    parts: Sequence[str],
    provided_facts: Sequence[Fact],
    embedder: Embedder,
    *,
    min_similarity: Mapping[str, float] | None = None,
) -> list[str]:
    """``parts`` without every sentence that carries a claim no provided fact supports (a part may come out
    empty); the parts unchanged when there is none."""
    unsupported = unsupported_claims(parts, provided_facts, embedder, min_similarity=min_similarity)
    out = []
    for part in parts:
        text = part
        for sentence in dict.fromkeys(c.sentence for c in unsupported if c.context == part):
            text = text.replace(sentence, " ", 1)
        lines = [_BLANKS.sub(" ", line).strip() for line in text.splitlines()]
        out.append(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())
    return out


# ---------------------------------------------------------------- assertions the facts do not ground

# What a health assertion says (something causes, prevents, treats, raises or lowers something, or is good or bad
# for you), in the words drafts use. A sentence without any of these frames a post ("Myth: …", "Which will you try
# first?") or gives a habit; one with them claims an effect, which only a provided fact may ground.
_ASSERTION = re.compile(
    r"\b(?:cur(?:e|es|ed|ing)|heal(?:s|ed|ing)?|treat(?:s|ed|ing|ment)?|prevent(?:s|ed|ing)?|revers(?:e|es|ed)|"
    r"caus(?:e|es|ed|ing)|lead(?:s)? to|led to|linked|associated|tied to|risk|protect(?:s|ed|ive)?|"
    r"boost(?:s|ed)?|improv(?:e|es|ed)|rais(?:e|es|ed)|increas(?:e|es|ed)|lower(?:s|ed)?|reduc(?:e|es|ed)|"
    r"cut(?:s)?|decreas(?:e|es|ed)|burn(?:s)?|detox\w*|flush(?:es)?|toxins?|immun\w*|inflammat\w*|"
    r"disease|diabetes|cancer|heart attack|stroke|depress\w*|anxiety|dementia|mortality|deaths?|die|"
    r"weight loss|lose weight|fat loss|blood (?:sugar|pressure)|cholesterol|hormones?|metabolism|"
    r"liv(?:e|es|ed|ing) longer|lifespan|surviv\w*|"
    r"works? better|as well as|proven|science says|research shows|evidence shows|safe|dangerous|harmful|"
    r"need(?:s)?|should|must|recommend\w*)\b",
    re.IGNORECASE,
)


def ungrounded_assertions(
    parts: Sequence[str],
    provided_facts: Sequence[Fact],
    embedder: Embedder,
    *,
    min_similarity: Mapping[str, float] | None = None,
) -> list[str]:
    """The draft's sentences that assert a health effect (``_ASSERTION``) and say nothing a provided fact says
    (embedding similarity of the sentence itself under the claims threshold: read in its tweet, an unfounded
    sentence beside a fact would borrow the fact's closeness), in reading order. Empty: every effect the draft
    asserts restates a provided fact, so what it claims is what the fact's source says."""
    asserting = list(dict.fromkeys(s for part in parts for s in sentences(part) if _ASSERTION.search(s)))
    if not asserting or not provided_facts:
        return asserting
    threshold = _threshold(embedder, min_similarity)
    sims = _similarities(asserting, provided_facts, embedder)
    return [s for i, s in enumerate(asserting) if float(sims[i].max()) < threshold]
