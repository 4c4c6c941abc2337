"""The facts file: what the account may state as fact, each with the source's own sentence and where it was
checked. Loaded once at start; a bad file stops the service with a message naming the file and the entry."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from libs.facts.numbers import is_year, quantities, supported_by, years
from libs.niche import TOPICS, NicheConfig

_DATE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$")
UNDATED = "n.d."


class FactsFileError(ValueError):
    """A facts file that cannot be used; the message names the file and, where there is one, the entry."""


def _check_url(value: str, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"{field} must be an http(s) address, got {value!r}")
    return value


class Fact(BaseModel):
    """One citable fact. ``claim`` is our own short wording; ``quote`` is the source's sentence, exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    topic: str
    claim: str = Field(min_length=10, max_length=240)
    quote: str = Field(min_length=10)
    source: str = Field(min_length=2)
    url: str
    # Publication date as the source gives it (year, year-month or full date), or "n.d." for an undated page.
    date: str
    # True only when the quote was found, verbatim, in a stored copy of the source: ``check`` says which kind
    # (the source's own page, or a full copy of the same document elsewhere) and ``checked_against`` where.
    verified: bool
    check: Literal["source_page", "copy"] | None = None
    checked_against: str | None = None
    note: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value, "url")

    @field_validator("checked_against")
    @classmethod
    def _checked_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value, "checked_against")

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        if value != UNDATED and not _DATE.match(value):
            raise ValueError(f"date must be YYYY, YYYY-MM, YYYY-MM-DD or {UNDATED!r}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Fact":
        if self.verified and (self.check is None or self.checked_against is None):
            raise ValueError("a verified fact needs check (source_page or copy) and checked_against")
        if not self.verified and not self.note:
            raise ValueError("an unverified fact needs a note saying what was (not) found")
        # Our wording may only restate the source's numbers; a claim that drifted from its quote is an error.
        source_numbers = quantities(self.quote, derive_ratio_complements=True)
        source_years = set(years(self.quote)) | ({int(self.date[:4])} if self.date != UNDATED else set())
        for q in quantities(self.claim):
            if is_year(q) and int(q.value) in source_years:
                continue
            if not supported_by(q, source_numbers):
                raise ValueError(f"claim states {q.text!r}, which the quote does not")
        return self

    @property
    def year(self) -> int | None:
        return None if self.date == UNDATED else int(self.date[:4])

    def citation(self) -> str:
        """One line for a prompt: our claim with its source and date (the year once: a source that names it
        already, "Lancet Public Health 2022", gets no ", 2022", which a model copies into the post)."""
        when = "" if self.date == UNDATED or self.date[:4] in self.source else f", {self.date[:4]}"
        return f"{self.claim} ({self.source}{when})"


@dataclass(frozen=True)
class FactBook:
    """The loaded facts file."""

    path: Path
    facts: tuple[Fact, ...]

    def usable(self, *, include_unverified: bool = False) -> tuple[Fact, ...]:
        """The facts claims may rest on: the verified ones, unless told otherwise."""
        return tuple(f for f in self.facts if f.verified or include_unverified)

    def get(self, fact_id: str) -> Fact:
        for fact in self.facts:
            if fact.id == fact_id:
                return fact
        raise KeyError(fact_id)

    @property
    def verified_count(self) -> int:
        return sum(1 for f in self.facts if f.verified)


def _entry_label(index: int, raw: object) -> str:
    fact_id = raw.get("id") if isinstance(raw, dict) else None
    return f"entry {index}" + (f" (id {fact_id!r})" if fact_id else "")


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(x) for x in e["loc"])
        message = e["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_facts(data: object, *, path: Path, topics: Sequence[str] = TOPICS) -> FactBook:
    """Validate the parsed YAML of a facts file (``{"facts": [...]}``)."""
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise FactsFileError(f"{path}: expected a mapping with a 'facts' list at the top level")
    unknown = set(data) - {"facts"}
    if unknown:
        raise FactsFileError(f"{path}: unknown top-level keys {sorted(unknown)}")
    facts: list[Fact] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["facts"], start=1):
        label = _entry_label(index, raw)
        if not isinstance(raw, dict):
            raise FactsFileError(f"{path}: {label}: expected a mapping, got {type(raw).__name__}")
        try:
            fact = Fact.model_validate(raw)
        except ValidationError as err:
            raise FactsFileError(f"{path}: {label}: {_describe(err)}") from None
        if fact.topic not in topics:
            raise FactsFileError(
                f"{path}: {label}: topic {fact.topic!r} is not one of the niche's topics ({', '.join(topics)})"
            )
        if fact.id in seen:
            raise FactsFileError(f"{path}: {label}: id {fact.id!r} repeats entry {seen[fact.id]}")
        seen[fact.id] = index
        facts.append(fact)
    if not facts:
        raise FactsFileError(f"{path}: the facts list is empty")
    return FactBook(path=path, facts=tuple(facts))


def load_facts(path: str | Path, *, topics: Sequence[str] = TOPICS) -> FactBook:
    """Read and validate a facts file; raises FactsFileError naming the file and the entry at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise FactsFileError(f"{path}: cannot read the facts file: {err.strerror or err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise FactsFileError(f"{path}: not valid YAML: {err}") from None
    return parse_facts(data, path=path, topics=topics)


def load_niche_facts(config: NicheConfig) -> FactBook:
    """The facts file the niche names, checked against the niche's topics."""
    return load_facts(config.facts.path, topics=config.topics)
