"""What X would turn into a link, a mention, a hashtag or a cashtag, and what a person would read as one.

X's text rules (twitter-text) extract entities after Unicode folding: the fullwidth ``＠ ＃ ＄ ．`` count as
their ASCII selves, and a bare domain is a link whenever its last label is a real top-level domain, of which
there are about 1,500 (``deepsleep.shop``, ``stepcount.health``), not a short list. So the text is folded first
(NFKC, which also maps math-bold and fullwidth letters to plain ones; invisible format characters removed), and
domains are checked against the Public Suffix List bundled with ``tldextract`` (offline: no list is fetched).

A person also reads "gutfix dot io", "zone2 [.] fit", "c r a v e f r e e . c o m", "hxxps://…" and "v1tamins.c0m"
as links, "name at mail dot com" as an e-mail, "@ handle" as a mention, "$ W E L L" as a cashtag and "five five
five, zero one …" as a phone number: :func:`deobfuscate` rewrites those spellings before the extraction runs
again. A reply from the account carries none of these entities, in any spelling.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from libs.text import APOSTROPHES

if TYPE_CHECKING:
    import tldextract

_FORMAT_CHARS = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Dots that NFKC leaves alone but readers (and some clients) take for a full stop in a domain; and the typed
# apostrophes, for the rules that read folded text ("don’t reply", "you’re now"), which are written with '.
_ODD_CHARS = {**str.maketrans({"。": ".", "｡": ".", "∙": ".", "·": "."}), **APOSTROPHES}


def fold(text: str) -> str:
    """The text as X's entity rules see it: NFKC (fullwidth and styled letters to plain), no invisible chars,
    one apostrophe."""
    return _FORMAT_CHARS.sub("", unicodedata.normalize("NFKC", text)).translate(_ODD_CHARS)


@lru_cache(maxsize=1)
def _psl() -> tldextract.TLDExtract:
    # Imported on first use: tldextract brings requests and urllib3 (~7 MB resident), which the services that
    # import this module for fold() alone (the poster, the gateway, the console until it checks a draft) never use.
    import tldextract

    # The snapshot shipped in the wheel; suffix_list_urls=() means it never tries the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def is_domain(candidate: str) -> bool:
    """``candidate`` (no scheme) ends in a public suffix with a name before it: ``x.shop`` yes, ``e.g`` no."""
    host = candidate.split("/", 1)[0].split(":", 1)[0].strip(".").lower()
    if not host or "." not in host or ".." in host:
        return False
    parts = _psl()(host)
    return bool(parts.suffix) and bool(parts.domain)


_SCHEME_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+", re.IGNORECASE)
# A host as twitter-text finds one without a scheme: labels of letters, digits and hyphens (any script), not
# preceded by @ (an e-mail), $ or a word character; the TLD is checked afterwards.
_BARE_HOST = re.compile(
    r"(?<![\w@$.\-/])((?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63})(?![\w-])(?::\d{1,5})?(?:/[^\s<>\"']*)?",
    re.UNICODE,
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[^\W_][\w-]*(?:\.[\w-]+)+", re.UNICODE)
_MENTION = re.compile(r"(?:^|(?<=[^\w!#$%&*@]))@\s*[A-Za-z0-9_]+")
_HASHTAG = re.compile(r"(?:^|(?<=[^&\w]))#\s*[^\W\d_][\w]*|(?:^|(?<=[^&\w]))#\d+[^\W\d_]\w*", re.UNICODE)
# twitter-text: "$" then 1-6 letters, optionally ".xx" or "_xx", not followed by a word character.
_CASHTAG = re.compile(r"(?:^|(?<=[\s(\"'“]))\$[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?(?!\w)")
_PHONE = re.compile(r"(?<![\w.,])\+?\d[\d ()\-]{7,}\d(?![\w.,]?\d)")
_WALLETS = (
    re.compile(r"\b0x[0-9a-fA-F]{40}\b"),  # Ethereum and every EVM chain
    re.compile(r"\bbc1[ac-hj-np-z02-9]{11,71}\b", re.IGNORECASE),  # Bitcoin bech32
    re.compile(r"\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b"),  # Bitcoin legacy
    re.compile(r"\bT[1-9A-HJ-NP-Za-km-z]{33}\b"),  # Tron
    re.compile(r"\b[1-9A-HJ-NP-Za-km-z]{32,44}\b"),  # Solana and other base58 keys
)
# Words that announce an entity in prose: "at sign calmcarla", "hash longevitylads", "the username".
_SPELLED_MARKERS = re.compile(
    r"\b(?:at[- ]sign|at symbol|at-symbol|arroba|hash ?tag|hash(?= \w)|username|user name|handle is|"
    r"on (?:ig|insta|instagram|tiktok|telegram|whatsapp|signal|snapchat|youtube|onlyfans|discord))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entities:
    urls: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    cashtags: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    wallets: list[str] = field(default_factory=list)
    spelled: list[str] = field(default_factory=list)

    def first(self, *, tags: bool = True) -> tuple[str, str] | None:
        """(kind, text) of the first entity found, in a fixed order, or None; ``tags=False``: not a hashtag or a
        cashtag (a post may carry those)."""
        for attr, kind in (("urls", "link"), ("emails", "e-mail address"), ("mentions", "mention"),
                           ("hashtags", "hashtag"), ("cashtags", "cashtag"), ("phones", "phone number"),
                           ("wallets", "wallet address"), ("spelled", "spelled-out handle or account")):
            values = getattr(self, attr)
            if values and (tags or attr not in ("hashtags", "cashtags")):
                return kind, values[0]
        return None


def find_links(text: str) -> list[str]:
    """Links as X would make them from folded text: any scheme URL, and bare hosts with a real TLD."""
    folded = fold(text)
    found = [m.group(0).rstrip(".,;:!?)]}'\"") for m in _SCHEME_URL.finditer(folded)]
    rest = _SCHEME_URL.sub(" ", folded)
    for m in _BARE_HOST.finditer(_EMAIL.sub(" ", rest)):
        if is_domain(m.group(1)):
            found.append(m.group(0).rstrip(".,;:!?)]}'\""))
    return found


# "dot" in the languages the corpus and the audience use; brackets and spaces around it are part of the disguise.
_DOT_WORD = r"(?:dot|punto|point|punkt|ponto|ponte)"
_SPELLED_DOT = re.compile(rf"\s*[\[({{<]\s*(?:\.|{_DOT_WORD})\s*[\])}}>]\s*|\s+{_DOT_WORD}\s+|\s+\.\s+",
                          re.IGNORECASE)
_SPELLED_AT = re.compile(r"\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+(?=[\w-]+\.[a-z])", re.IGNORECASE)
_SPELLED_SLASH = re.compile(r"\s+(?:slash|/)\s+", re.IGNORECASE)
# Single letters separated by spaces (and maybe a spaced dot): "c r a v e f r e e . c o m".
_SPACED_LETTERS = re.compile(r"(?<!\w)\w(?:(?: | ?\. ?)\w(?!\w)){3,}")
_SHORTENER = re.compile(r"\b(bit|tinyurl|goo|ow|is|buff|rb|cutt|t)\s+(ly|com|gl|gd|co)\b", re.IGNORECASE)
# A defanged scheme ("hxxps://", "h**p://", "https[:]//"): written so that no client links it, read as a link.
_DEFANGED_SCHEME = re.compile(r"\b[\w*]{2,8}\s*\[?:\]?\s*/\s*/\s*", re.IGNORECASE)
# Digits spelled as words, seven or more in a run ("five five five, zero one nine nine ..."): a phone number read
# aloud. Separators between them are dropped so the run reads as the digits it spells.
_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                "seven": "7", "eight": "8", "nine": "9"}
_DIGIT_WORD = rf"(?:{'|'.join(_DIGIT_WORDS)}|\d)"
_SPELLED_DIGITS = re.compile(rf"\b{_DIGIT_WORD}(?:[\s,.\-]+{_DIGIT_WORD}\b){{6,}}", re.IGNORECASE)
# Digits standing for letters in a domain's ending ("v1tamin.c0m"): read as the letters, the ending is a real TLD.
_LEET = str.maketrans("0134578", "oieasbt")
_LEET_HOST = re.compile(r"(?<![\w@.\-])((?:[^\W_][\w-]*\.)+)([^\W_]{2,6})(?![\w-])", re.UNICODE)


def deobfuscate(text: str) -> str:
    """Rewrite spelled-out dots, ats and slashes, and spaced-out letters, so hidden links become links."""
    out = fold(text)
    out = _SPACED_LETTERS.sub(lambda m: re.sub(r"\s+", "", m.group(0)), out)
    out = _SPELLED_DOT.sub(".", out)
    out = _SHORTENER.sub(r"\1.\2", out)
    out = _SPELLED_SLASH.sub("/", out)
    out = _SPELLED_AT.sub("@", out)
    out = _DEFANGED_SCHEME.sub("https://", out)
    out = _SPELLED_DIGITS.sub(lambda m: "".join(_DIGIT_WORDS.get(w.lower(), w)
                                                for w in re.findall(r"[^\W\d_]+|\d", m.group(0))), out)
    # "@ handle" and "@ gut_guru _ official": a mention with the spaces taken out; "$ W E L L" a cashtag.
    out = re.sub(r"\$\s+(?=[A-Z]{2,6}(?!\w))", "$", out)
    return re.sub(r"@\s+(?=\w)", "@", out)


_MIXED_WORD = re.compile(r"\b(?=\w*[^\W\d_])(?=\w*\d)\w+\b")


def unleet(text: str) -> str:
    """Words that mix digits and letters read as letters ("St0p y0ur 1nsul1n" is "Stop your insulin"); other words
    as written. For the rules that read words; "b12" or "omega3" become nonsense, so read the text both ways."""
    return _MIXED_WORD.sub(lambda m: m.group(0).translate(_LEET), text)


def _leet_domain(name: str, ending: str) -> bool:
    """``name`` + ``ending`` is a domain once the ending's digits are read as letters ("v1tamins." + "c0m")."""
    return any(c.isdigit() for c in ending) and any(c.isalpha() for c in ending) \
        and any(c.isalpha() for c in name) and is_domain(name + ending.translate(_LEET))


def _leet_links(text: str) -> list[str]:
    return [m.group(0) for m in _LEET_HOST.finditer(text) if _leet_domain(m.group(1), m.group(2))]


def extract(text: str) -> Entities:
    """Every entity of ``text`` as X would link it, plus those a reader would follow in disguised spellings."""
    plain = fold(text)
    hidden = deobfuscate(text)
    emails = _dedupe([m.group(0) for t in (plain, hidden) for m in _EMAIL.finditer(t) if _email_ok(m.group(0))])
    urls = _dedupe(find_links(plain) + find_links(hidden) + _leet_links(_EMAIL.sub(" ", hidden)))
    without_mail = _EMAIL.sub(" ", hidden)
    return Entities(
        urls=urls,
        mentions=[m.group(0) for m in _MENTION.finditer(without_mail)],
        hashtags=[m.group(0) for m in _HASHTAG.finditer(plain)],
        cashtags=_dedupe([m.group(0) for t in (plain, hidden) for m in _CASHTAG.finditer(t)]),
        emails=emails,
        phones=_dedupe([m.group(0) for t in (plain, hidden) for m in _PHONE.finditer(t)
                        if 9 <= sum(c.isdigit() for c in m.group(0)) <= 15]
                       # seven digits read aloud are a local number, whatever the count a written one needs
                       + [m.group(0) for m in _SPELLED_DIGITS.finditer(plain) if re.search(r"[^\W\d_]", m.group(0))]),
        wallets=[m.group(0) for rx in _WALLETS for m in rx.finditer(plain) if _wallet_like(m.group(0))],
        spelled=[m.group(0) for m in _SPELLED_MARKERS.finditer(plain)],
    )


def _email_ok(candidate: str) -> bool:
    host = candidate.rsplit("@", 1)[1]
    name, _, ending = host.rpartition(".")
    return is_domain(host) or _leet_domain(name + ".", ending)


def _wallet_like(token: str) -> bool:
    # A long base58 run that is all letters is a word (or a German compound), not a key.
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------- look-alike letters

_HOMOGLYPH_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "GEORGIAN", "LISU"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# NFKC turns the micro sign into a Greek mu; "5 μg" is a unit, not a disguise.
_MICRO = re.compile(r"μ(?=[gmlLsV]\b)")


def script_of(ch: str) -> str | None:
    """The script a letter belongs to, by its Unicode name ("LATIN", "CYRILLIC", "CJK"…); None for a non-letter."""
    if not ch.isalpha():
        return None
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return None


def lookalike_words(text: str) -> list[str]:
    """Words that mix alphabets ("Ozеmpic" with a Cyrillic e), and words written wholly in an alphabet whose
    letters pass for Latin ones ("ѕһор") inside Latin text."""
    folded = _MICRO.sub("u", fold(text))
    words = _WORD.findall(folded)
    scripts = [{s for s in map(script_of, w) if s} for w in words]
    latin = sum(1 for s in scripts if s == {"LATIN"})
    out = []
    for word, used in zip(words, scripts):
        if len(used & (_HOMOGLYPH_SCRIPTS | {"LATIN"})) > 1:
            out.append(word)
        elif used and used <= _HOMOGLYPH_SCRIPTS and latin >= 2:
            out.append(word)
    return out
