"""The story file (``codebooks/story.yaml``): periods, events in story time with their evidence, and findings
chapters, read and checked whole before anything is written (see :data:`STORY_FILE_FORMAT`). The service
:meth:`analysis.services.story.StoryService.import_file` writes what this module parses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from analysis.errors import StoryloomError
from analysis.domain.narrative import parse_dated, parse_when
from analysis.files.safe_yaml import Where, kind_of, yaml_list, yaml_mapping, yaml_name, yaml_path_error, yaml_text

__all__ = ["STORY_FILE", "STORY_FILE_FORMAT", "FileChapter", "FileEvent", "FileEvidence", "FilePeriod", "FileQuote",
           "FileSection", "StoryFile", "parse_story_file"]

STORY_FILE = "story.yaml"
STORY_FILE_FORMAT = """\
A story file (``codebooks/story.yaml``, read by :meth:`StoryService.import_file`; imported on ``sync``
when the project has no events and no chapters yet) is YAML with these top-level keys:

``storyloom_story: 1``
    the format's version (optional; 1 is the only one).
``periods``
    named periods of the story, in the researcher's order: each ``name`` (required), ``dates`` (optional:
    a date, month or year, e.g. ``2020-07``) and ``description``.
``events``
    each ``name`` (required), ``when`` (a date, month or year, a period's name, ``before EVENT`` or
    ``after EVENT`` naming an event above it, or ``unknown``), ``description`` and ``evidence``: the coded
    passages told of it, a list of ``{transcript, quote}`` (the quote exactly as ``codings.yaml`` quotes
    the coding), each with an optional ``when``: where this participant places the event, if elsewhere.
``chapters``
    findings chapters: each ``title`` (required), ``introduction`` and ``sections``, each a ``heading``
    (required) and ``items`` in order: ``{text}`` (a paragraph of the researcher's) or ``{transcript,
    quote}`` (a quote: the whole of one coding's quote, or an exact part of one coded passage).

Names are compared ignoring case. Errors name the file and the entry (``events[3].evidence[0].quote``).
"""

_TOP = {"storyloom_story", "periods", "events", "chapters"}
_PERIOD = {"name", "dates", "description"}
_EVENT = {"name", "when", "description", "evidence"}
_EVIDENCE = {"transcript", "quote", "when"}
_CHAPTER = {"title", "introduction", "sections"}
_SECTION = {"heading", "items"}
_ITEM = {"text", "transcript", "quote"}


@dataclass(frozen=True)
class FilePeriod:
    name: str
    dates: str
    description: str
    where: Where


@dataclass(frozen=True)
class FileEvidence:
    transcript: str
    quote: str
    when: str
    where: Where


@dataclass(frozen=True)
class FileEvent:
    name: str
    when: str
    description: str
    evidence: tuple[FileEvidence, ...]
    where: Where


@dataclass(frozen=True)
class FileQuote:
    transcript: str
    quote: str
    where: Where


@dataclass(frozen=True)
class FileSection:
    heading: str
    items: tuple[str | FileQuote, ...]  # a paragraph, or a quote
    where: Where


@dataclass(frozen=True)
class FileChapter:
    title: str
    introduction: str
    sections: tuple[FileSection, ...]
    where: Where


@dataclass(frozen=True)
class StoryFile:
    periods: tuple[FilePeriod, ...]
    events: tuple[FileEvent, ...]
    chapters: tuple[FileChapter, ...]


def _plain(value: Any) -> Any:
    """A year or a date written without quotes (YAML reads 2019 as a number, 2019-03-14 as a date) as text."""
    if isinstance(value, date) or (isinstance(value, int) and not isinstance(value, bool)):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def _when(name: str, where: Where, value: Any) -> str:
    value = _plain(value)
    text = yaml_text(name, where, value)
    try:
        parse_when(text)
    except StoryloomError as err:
        raise yaml_path_error(name, where, str(err)) from None
    return text


def _quote(name: str, where: Where, entry: dict[str, Any]) -> tuple[str, str]:
    return (yaml_text(name, [*where, "transcript"], entry.get("transcript"), required=True),
            yaml_text(name, [*where, "quote"], entry.get("quote"), required=True))


def _unique(name: str, where: Where, value: str, seen: dict[str, str]) -> None:
    if value.casefold() in seen:
        raise yaml_path_error(name, where, f"'{value}' is named twice (also '{seen[value.casefold()]}')")
    seen[value.casefold()] = value


def parse_story_file(name: str, doc: Any) -> StoryFile:
    """Check a whole story file (see :data:`STORY_FILE_FORMAT`) before anything is written; errors name the
    file ``name`` and the YAML path of the entry."""
    top = yaml_mapping(name, (), doc, _TOP, "a story file: periods, events, chapters")
    version = top.get("storyloom_story", 1)
    if version != 1 or isinstance(version, bool):
        raise yaml_path_error(name, ["storyloom_story"], f"is {kind_of(version)}; this version of Storyloom reads 1")
    periods: list[FilePeriod] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(yaml_list(name, ["periods"], top.get("periods") or [], "periods")):
        where: Where = ("periods", i)
        entry = yaml_mapping(name, where, item, _PERIOD, "a period: name, dates, description")
        pname = yaml_name(name, [*where, "name"], entry.get("name"), "period")
        _unique(name, [*where, "name"], pname, seen)
        dates = yaml_text(name, [*where, "dates"], _plain(entry.get("dates")))
        try:
            dated = parse_dated(dates) if dates else None
        except StoryloomError as err:
            raise yaml_path_error(name, [*where, "dates"], str(err)) from None
        if dates and dated is None:
            raise yaml_path_error(name, [*where, "dates"], f"'{dates}' is not a date, a month or a year (e.g. 2020-07 or 2020)")
        periods.append(FilePeriod(pname, dates, yaml_text(name, [*where, "description"], entry.get("description")), where))
    events: list[FileEvent] = []
    seen = {}
    for i, item in enumerate(yaml_list(name, ["events"], top.get("events") or [], "events")):
        where = ("events", i)
        entry = yaml_mapping(name, where, item, _EVENT, "an event: name, when, description, evidence")
        ename = yaml_name(name, [*where, "name"], entry.get("name"), "event")
        _unique(name, [*where, "name"], ename, seen)
        evidence: list[FileEvidence] = []
        for j, ev in enumerate(yaml_list(name, [*where, "evidence"], entry.get("evidence") or [], "coded passages")):
            at: Where = (*where, "evidence", j)
            e = yaml_mapping(name, at, ev, _EVIDENCE, "evidence: transcript, quote, when")
            transcript, quote = _quote(name, at, e)
            evidence.append(FileEvidence(transcript, quote, _when(name, [*at, "when"], e.get("when")), at))
        events.append(FileEvent(ename, _when(name, [*where, "when"], entry.get("when")) or "unknown",
                                yaml_text(name, [*where, "description"], entry.get("description")), tuple(evidence), where))
    chapters: list[FileChapter] = []
    for i, item in enumerate(yaml_list(name, ["chapters"], top.get("chapters") or [], "chapters")):
        where = ("chapters", i)
        entry = yaml_mapping(name, where, item, _CHAPTER, "a chapter: title, introduction, sections")
        sections: list[FileSection] = []
        for j, sec in enumerate(yaml_list(name, [*where, "sections"], entry.get("sections") or [], "sections")):
            at = (*where, "sections", j)
            s = yaml_mapping(name, at, sec, _SECTION, "a section: heading, items")
            items: list[str | FileQuote] = []
            for k, it in enumerate(yaml_list(name, [*at, "items"], s.get("items") or [], "paragraphs and quotes")):
                place: Where = (*at, "items", k)
                x = yaml_mapping(name, place, it, _ITEM, "an item: text (a paragraph), or transcript and quote")
                if "text" in x and ("transcript" in x or "quote" in x):
                    raise yaml_path_error(name, place, "is both a paragraph (text) and a quote (transcript, quote); "
                                          "make them two items")
                if "text" in x:
                    items.append(yaml_text(name, [*place, "text"], x["text"], required=True))
                else:
                    items.append(FileQuote(*_quote(name, place, x), place))
            if not items:
                raise yaml_path_error(name, [*at, "items"], "is empty: a section needs paragraphs or quotes")
            sections.append(FileSection(yaml_text(name, [*at, "heading"], s.get("heading"), required=True),
                                        tuple(items), at))
        chapters.append(FileChapter(yaml_name(name, [*where, "title"], entry.get("title"), "chapter"),
                                    yaml_text(name, [*where, "introduction"], entry.get("introduction")),
                                    tuple(sections), where))
    return StoryFile(tuple(periods), tuple(events), tuple(chapters))
