"""Disclosure check before export: could a reader identify someone from what would be printed?

spaCy's named-entity recogniser (the full pipeline, loaded once per process) reads the title, the
narrative paragraphs and every quote as it would print, and flags people, organisations and places
(``PERSON``, ``ORG``, ``GPE``, ``LOC``, ``FAC``; ``NORP`` on request; only entities with a capital
letter, since names are written with one) that are not on the project's
allow-list. The allow-list is, case-insensitively: the pseudonyms, the participants' attribute
values, the code and theme names, every term a researcher accepted (the ``allow_list`` table,
e.g. te reo Māori words the model takes for names), and a built-in list of words that name no one
(:data:`BUILT_IN_ALLOWED`: months, weekdays, seasons and holidays, COVID-19 and its variants, the
video-call tools interviews happen on, everyday te reo Māori words, a few terms of the education sector). An entity made of allowed parts ("Leader A and Leader B",
"the COVID-19 lockdown", "Monday morning") is allowed too. When attributes are printed with quotes, a
combination of attribute values that only one participant has (k-anonymity of 1) is flagged too.

A flag is resolved by editing the quote (a bracketed substitution: ``[a colleague]``) or accepted
with :meth:`analysis.services.disclosure.DisclosureService.accept_term` (one audit event).

This module holds the pure parts (term normalisation, entity recognition, the k-anonymity flags, and
:func:`check_publishable`, the one check before a vignette, a findings chapter or the case matrix is
published); the service with the allow-list is :class:`analysis.services.disclosure.DisclosureService`
(``project.disclosure``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from analysis.errors import Errors, ExportError, NotFoundError

if TYPE_CHECKING:
    from analysis.domain.vignettes import Item

DEFAULT_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC", "FAC")
#: What each label means, in the researcher's words (the UI and the export message show these).
LABEL_WORDS: dict[str, str] = {
    "PERSON": "a person's name", "ORG": "an organisation", "GPE": "a place", "LOC": "a place",
    "FAC": "a building or facility", "NORP": "a nationality, religious or political group",
    "UNIQUE_ATTRIBUTES": "attributes only one participant has",
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Mon", "Tue", "Tues", "Wed",
         "Thu", "Thurs", "Fri", "Sat", "Sun", "weekend", "today", "tomorrow", "yesterday")
#: Words that identify no one, allowed in every project (see the module docstring).
BUILT_IN_ALLOWED: tuple[str, ...] = (
    *_MONTHS, *_DAYS, "spring", "summer", "autumn", "fall", "winter", "morning", "afternoon", "evening", "night",
    "Christmas", "Easter", "New Year", "Matariki", "Ramadan", "Eid", "Diwali", "Hanukkah", "Thanksgiving",
    "COVID", "COVID-19", "Covid", "Covid-19", "COVID19", "coronavirus", "SARS-CoV-2", "Delta", "Omicron",
    "pandemic", "lockdown", "lockdowns", "the lockdown", "Level 4", "Alert Level", "Zoom", "Teams", "Microsoft Teams",
    "Google Meet", "Skype", "WhatsApp", "Moodle", "Canvas", "Blackboard", "Excel", "PowerPoint", "Word",
    "Google", "Internet", "the internet", "email", "Facebook", "YouTube",
    # everyday te reo Māori words the model takes for names (greetings, food, learners, meetings)
    "kia ora", "kai", "whānau", "hui", "mahi", "ākonga", "kaiako", "tikanga", "kaupapa", "aroha", "haere mai",
    # sector terms of education and training, not organisations
    "RPL", "recognition of prior learning", "micro-credential", "micro-credentials",
)
_JOINS = re.compile(r"\s*(?:,|&|/|\band\b|\bor\b)\s*", re.IGNORECASE)
UNIQUE_ATTRIBUTES = "UNIQUE_ATTRIBUTES"
_NER_ONLY = ("parser", "tagger", "attribute_ruler", "lemmatizer", "senter")


def normalise_term(text: str) -> str:
    """How terms compare: lower case, single spaces, no leading 'the', no possessive, no edge punctuation."""
    text = re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()
    text = re.sub(r"^the ", "", text)
    text = re.sub(r"'s$", "", text)
    return text.strip(" .,;:!?\"'()[]")


def entities(texts: Sequence[str], *, labels: Iterable[str] = DEFAULT_LABELS) -> list[list[tuple[str, str]]]:
    """Named entities ``(text, label)`` of each text, restricted to ``labels``."""
    from analysis.domain.segment import load_nlp

    nlp = load_nlp(full=True)
    wanted = set(labels)
    disable = [p for p in _NER_ONLY if p in nlp.pipe_names]
    out: list[list[tuple[str, str]]] = []
    for doc in nlp.pipe(list(texts), disable=disable, batch_size=32):
        out.append([(e.text.strip(), e.label_) for e in doc.ents
                    if e.label_ in wanted and any(ch.isupper() for ch in e.text)])
    return out


def _allowed_one(norm: str, allowed: set[str]) -> bool:
    if not norm or norm in allowed or any(f" {norm} " in f" {a} " for a in allowed):
        return True
    words = norm.split(" ")
    # every word covered by an allowed term of one or more words ("covid-19 lockdown", "monday morning")
    covered, i = 0, 0
    while i < len(words):
        for j in range(len(words), i, -1):
            if normalise_term(" ".join(words[i:j])) in allowed:
                covered, i = covered + (j - i), j
                break
        else:
            return False
    return covered == len(words)


def is_allowed(term: str, allowed: set[str]) -> bool:
    """A term is allowed when it is an allowed term, a run of whole words of one, a run of allowed terms
    ("COVID-19 lockdown"), or allowed parts joined by "and", "or", "&", "/" or commas ("Leader A and
    Leader B")."""
    norm = normalise_term(term)
    if _allowed_one(norm, allowed):
        return True
    parts = [normalise_term(p) for p in _JOINS.split(norm)]
    return len(parts) > 1 and all(_allowed_one(p, allowed) for p in parts if p)


def label_words(label: str) -> str:
    """A flag's label in the researcher's words (``ORG`` is "an organisation")."""
    return LABEL_WORDS.get(label, label)


def unique_attribute_flags(
    items: Sequence[Item], attributes: Sequence[str], people: Mapping[str, Mapping[str, str]], allowed: set[str],
) -> list[dict[str, Any]]:
    """Flags for the quoted participants of ``items`` (a vignette's, or every section's of a chapter) whose
    combination of ``attributes`` values no one else has (k-anonymity of 1). ``people`` maps each pseudonym
    to its attributes; ``allowed`` holds normalised allowed terms (see :func:`normalise_term`)."""
    if not attributes:
        return []
    from analysis.domain.quotes import quote_label
    from analysis.domain.vignettes import QuoteItem

    unknown = [a for a in attributes if not any(a in attrs for attrs in people.values())]
    if unknown:
        names = sorted({k for attrs in people.values() for k in attrs})
        raise NotFoundError(Errors.E2001, unknown=', '.join(unknown), v2=', '.join(names) or 'none')
    combos: dict[tuple[str, ...], int] = {}
    for attrs in people.values():
        combo = tuple(attrs.get(a, "") for a in attributes)
        combos[combo] = combos.get(combo, 0) + 1
    flags: list[dict[str, Any]] = []
    done: set[str] = set()
    for i, item in enumerate(items):
        who = item.participant if isinstance(item, QuoteItem) else None
        if who is None or who not in people or who in done:
            continue
        done.add(who)
        combo = tuple(people[who].get(a, "") for a in attributes)
        printed = ", ".join(x for x in combo if x)
        if combos[combo] == 1 and printed and normalise_term(printed) not in allowed:
            flags.append({"text": printed, "label": UNIQUE_ATTRIBUTES, "quote": quote_label(item.text), "item": i,
                          "detail": f"only {who} has {printed}: printing it identifies them (k-anonymity of 1)"})
    return flags


# -- the publishing check ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PrintedQuote:
    """A quote as it would be published: where it sits (named in a refusal), the researcher's rendering,
    the transcript passage it stands for (``None``: the transcript is no longer in the project) and the
    transcript's name."""

    where: str
    text: str
    source: str | None
    transcript: str


class Flag(Protocol):
    """What the publishing check reads of a disclosure flag (as ``project.disclosure`` gives them): the text
    as printed, its label and the place it is in (``quote``)."""

    @property
    def text(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def quote(self) -> str: ...


#: How many flags a refusal lists before "and N more".
LISTED_FLAGS = 8


def check_publishable(
    name: str, quotes: Iterable[PrintedQuote], disclosure: Callable[[], Sequence[Flag]] | None = None,
) -> None:
    """The one check before anything is published (a vignette, a findings chapter, the case matrix):
    every quote is its transcript passage but for marked edits (:func:`analysis.domain.quotes.check_quote`),
    then the disclosure check (``disclosure()``: the flags from ``project.disclosure``, asked only once the
    quotes hold; ``None`` when the researcher turned it off) leaves nothing unresolved. Raises the first
    failure as an :class:`ExportError` naming ``name``, the place and, for a flag, what it is in words
    ("an organisation", not ``ORG``)."""
    from analysis.domain.quotes import check_quote

    for quote in quotes:
        if quote.source is None:
            raise ExportError(Errors.E3109, where=quote.where, transcript=quote.transcript)
        check_quote(quote.text, quote.source, where=quote.where)
    flags = disclosure() if disclosure is not None else ()
    if flags:
        listed = "; ".join(f"'{f.text}' ({label_words(f.label)}, in {f.quote})" for f in flags[:LISTED_FLAGS])
        more = f" and {len(flags) - LISTED_FLAGS} more" if len(flags) > LISTED_FLAGS else ""
        raise ExportError(Errors.E3110, name=name, listed=listed, more=more)
