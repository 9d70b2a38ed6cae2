"""The coded passages a project file quotes: the evidence of ``cases.yaml`` and of ``story.yaml``, and the
chapter quotes of ``story.yaml``. A file names a passage by its transcript and its words, never by offsets;
an error names the file and the YAML path of the entry."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from analysis.files.safe_yaml import Where, yaml_path_error
from analysis.store import codings as coding_store, transcripts as transcript_store

if TYPE_CHECKING:
    from analysis.store import Connection

#: transcript name -> (its text, its placed codings), read once per import
Sources = dict[str, tuple[str, builtins.list[Any]]]


def coded_passages(conn: Connection, name: str, transcript: str, quote: str, where: Where, cache: Sources, *,
                   whole: bool) -> builtins.list[Any]:
    """The codings of ``transcript`` quoted by ``quote``: with ``whole``, every coding whose quote is exactly
    that text; else one ``(coding, start, end)``: the coding quoted whole, or the first coded passage of
    which the quote is an exact part, with the part's span."""
    if transcript not in cache:
        row = transcript_store.by_name(conn, transcript)
        if row is None:
            known = ", ".join(str(r.name) for r in transcript_store.transcripts_by_name(conn)) or "none yet"
            raise yaml_path_error(name, [*where, "transcript"],
                                  f"'{transcript}' is not a transcript of this project (known: {known})")
        cache[transcript] = (transcript_store.transcript_text(conn, int(row.id)),
                             [r for r in coding_store.rows_in(conn, int(row.id)) if not r.orphaned])
    text, rows = cache[transcript]
    exact = [r for r in rows if str(r.quote) == quote]
    if whole:
        found: builtins.list[Any] = exact
    elif exact:
        found = [(exact[0], int(exact[0].start), int(exact[0].end))]
    else:
        found = [(r, int(r.start) + at, int(r.start) + at + len(quote)) for r in rows
                 if (at := text[int(r.start):int(r.end)].find(quote)) >= 0][:1]
    if not found:
        raise yaml_path_error(name, [*where, "quote"],
                              f"matches no coding of {transcript}: " + (
                                  "evidence is a coded passage, quoted exactly as its coding quotes it" if whole else
                                  "a quote is a coded passage, or an exact part of one")
                              + " (code the passage first, e.g. in codings.yaml, or copy the coding's quote)")
    return found
