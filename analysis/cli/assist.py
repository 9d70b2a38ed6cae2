"""Assist commands: search, suggest, patterns, check, report methods. Machine suggestions only: the
researcher accepts or rejects each one."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.errors import Errors, ImportFormatError, StoryloomError, ValidationError
from analysis.cli._common import JsonOpt, ProjectOpt, app, emit, handled, open_, table, wrote

if TYPE_CHECKING:
    from analysis.services.results import ConsistencyReport

report_app = typer.Typer(help="Reports generated from the project's audit trail.", no_args_is_help=True)
app.add_typer(report_app, name="report")

SUGGESTION_KEYS = ("rank", "transcript", "start", "end", "text", "score", "participant", "closest_coding", "label")


def _attributes(pairs: list[str] | None) -> dict[str, str | list[str]] | None:
    if not pairs:
        return None
    out: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"'{pair}' is not KEY=VALUE (e.g. stakeholder_group=leader).")
        out.setdefault(key.strip(), []).append(value.strip())
    return dict(out)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(
        help="Words, \"a quoted phrase\", or a description of what you look for.")] = None,
    queries: Annotated[Path | None, typer.Option(
        "--queries", help="Run many searches in one go: a file with one query per line ('-': standard input). "
                          "With --json, one JSON object per query and line.")] = None,
    mode: Annotated[str, typer.Option(
        help="semantic (meaning), keyword (exact words, accents ignored) or hybrid.")] = "semantic",
    k: Annotated[int, typer.Option("--k", help="How many hits.")] = 10,
    participant: Annotated[str | None, typer.Option(help="Only this participant.")] = None,
    attribute: Annotated[list[str] | None, typer.Option(help="Only participants with KEY=VALUE (repeatable).")] = None,
    code: Annotated[str | None, typer.Option(help="Only passages coded with this code (or its sub-codes).")] = None,
    not_code: Annotated[str | None, typer.Option(help="Only passages not coded with this code.")] = None,
    uncoded: Annotated[bool, typer.Option(help="Only passages that no coding covers.")] = False,
    interviewer: Annotated[bool, typer.Option(help="Search the interviewer's turns too (left out by default).")] = False,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Search the transcripts' sentences: semantic (local embeddings), keyword or hybrid (rank fusion)."""
    with handled():
        if query is not None and queries is not None:
            raise ValidationError(Errors.E9103)
        if query is None and queries is None:
            raise ValidationError(Errors.E9104)
        batch = _read_queries(queries) if queries is not None else [(0, query or "")]
        opened = open_(project)
        keys = ("participant", "transcript", "line", "timestamp", "start", "end", "text", "score", "turn_text",
                "matches")
        for line, q in batch:
            try:
                hits = opened.assist.search(q, mode=mode, k=k, participant=participant,
                                            attributes=_attributes(attribute), code=code, exclude_code=not_code,
                                            uncoded=uncoded, interviewer=interviewer)
            except StoryloomError as err:
                if queries is None:
                    raise
                raise ImportFormatError(_queries_name(queries), Errors.E9106, line=line, error=err) from None
            # the keyword matches only where there are (a semantic hit has none: no key, as before)
            result: dict[str, Any] = {"hits": [{key: getattr(h, key) for key in keys
                                                if key != "matches" or h.matches is not None} for h in hits]}
            if queries is not None:
                result = {"query": q, "line": line, **result}
                if not as_json:
                    typer.echo(f"== {q}")
            emit(result, as_json=as_json,
                 render=lambda r: table(r["hits"], ["score", "participant", "transcript", "line", "timestamp", "text"]))


def _queries_name(path: Path) -> str:
    return "standard input" if str(path) == "-" else str(path)


def _read_queries(path: Path) -> list[tuple[int, str]]:
    """``(line number, query)`` of each non-blank line of ``path`` (``-``: standard input)."""
    name = _queries_name(path)
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFormatError(name, Errors.E9107) from None
    out = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not out:
        raise ImportFormatError(name, Errors.E9105)
    return out


@app.command()
def suggest(
    code: Annotated[str, typer.Argument(help="The code (name or 'Theme > Code' path).")],
    k: Annotated[int, typer.Option("--k", help="How many suggestions.")] = 10,
    accept: Annotated[int | None, typer.Option(help="Accept suggestion N of the current list (1-based).")] = None,
    reject: Annotated[int | None, typer.Option(help="Reject suggestion N of the current list (1-based).")] = None,
    note: Annotated[str, typer.Option(help="A reflexive note on the decision.")] = "",
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Machine suggestions for CODE: passages like its coded material. Accept or reject one by its number."""
    with handled():
        p = open_(project)
        if accept is not None and reject is not None:
            raise typer.BadParameter("Give --accept or --reject, not both.")
        if accept is not None:
            c = p.suggestions.accept(code, accept, note=note)
            emit({"accepted": accept, "coding": {"id": c.id, "transcript_id": c.transcript_id, "start": c.start,
                                                 "end": c.end, "text": c.text, "origin": c.origin}},
                 as_json=as_json, render=lambda r: typer.echo(f"Coded (id {r['coding']['id']}): {r['coding']['text']}"))
            return
        if reject is not None:
            p.suggestions.reject(code, reject, note=note)
            emit({"rejected": reject}, as_json=as_json,
                 render=lambda r: typer.echo(f"Rejected suggestion {reject}; it will not be suggested again."))
            return
        out = [{key: s[key] for key in SUGGESTION_KEYS} for s in p.suggestions.suggest(code, k=k)]
        emit({"suggestions": out}, as_json=as_json, render=_render_suggestions)


def _render_suggestions(r: dict[str, Any]) -> None:
    typer.echo("Machine suggestions (accept with --accept N, reject with --reject N):")
    for s in r["suggestions"]:
        where = f"{s['transcript']} {s['start']}-{s['end']}"
        typer.echo(f"{s['rank']:>3}. [{s['score']:.3f}] {s['participant']} ({where}): {s['text']}")
        typer.echo(f"      like coding {s['closest_coding']['id']}: {s['closest_coding']['text'][:100]}")


@app.command()
def patterns(
    min_size: Annotated[int, typer.Option("--min-size", help="The fewest passages a pattern may have.")] = 5,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Machine-grouped patterns in the uncoded text: distinctive words and central passages (not themes)."""
    with handled():
        clusters = [{"id": c["id"], "words": c["words"], "size": c["size"],
                     "segments": [{k: s[k] for k in ("transcript", "start", "end", "text", "participant")}
                                  for s in c["segments"]]} for c in open_(project).patterns.list(min_size=min_size)]

        def render(r: dict[str, Any]) -> None:
            for n, c in enumerate(r["clusters"], start=1):
                typer.echo(f"{n}. ({c['size']} passages) {', '.join(c['words'])}")
                for s in c["segments"][:3]:
                    typer.echo(f"     {s['participant']}: {s['text'][:110]}")

        emit({"clusters": clusters}, as_json=as_json, render=render)


@app.command()
def check(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Consistency checks: outlying codings, near-duplicate codes, participants without a common theme."""
    with handled():
        result = open_(project).consistency.check()

        def render(r: ConsistencyReport) -> None:
            typer.echo("Codings far from the rest of their code (to re-read):")
            table([asdict(o) for o in r.outlying_codings], ["z", "code", "coding_id", "text"])
            typer.echo("\nCodes whose material is nearly the same (merge candidates):")
            table([asdict(s) for s in r.similar_codes], ["similarity", "code_a", "code_b"])
            typer.echo("\nParticipants with no coding under a theme most others have (to check, not to fill):")
            table([asdict(g) for g in r.participants_without_theme], ["theme", "participant", "others_with", "others"])

        emit(result, as_json=as_json, render=render)


@report_app.command("methods")
def report_methods(
    format: Annotated[str, typer.Option("--format", help="md or docx.")] = "md",
    output: Annotated[Path | None, typer.Option(help="Write the report here (default: print Markdown).")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """A methods paragraph and table generated from the audit trail (Markdown or DOCX)."""
    with handled():
        p = open_(project)
        if output is None:
            if format != "md":
                raise typer.BadParameter("A DOCX report needs --output PATH.")
            report = p.exports.methods_report()
            emit({"markdown": report.markdown, "counts": report.counts}, as_json=as_json,
                 render=lambda r: typer.echo(r["markdown"]))
            return
        path = p.exports.export_methods_report(output, format=format)
        wrote(path, p.exports.last_warnings, as_json=as_json, format=format)
