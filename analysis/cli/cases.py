"""Case and cross-case comparison commands: ``case add|list|edit|link|unlink|remove|evidence|from-participants``,
``condition add|edit|remove|list``, ``matrix set|show|suggest|accept|import|export`` and ``compare``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from analysis.domain.cases import Comparison, format_cell
from analysis.errors import Errors, ValidationError
from analysis.cli._common import JsonOpt, NoteOpt, ProjectOpt, app, command_group, emit, handled, open_, table

case_app = command_group("case", "Cases: what a cross-case comparison compares (programmes, units, participants...).")
condition_app = command_group("condition", "Conditions: the columns of the case x condition matrix (one may be the outcome).")
matrix_app = command_group("matrix", "The case x condition matrix: judge cells with evidence, import, export.")
CaseArg = Annotated[str, typer.Argument(metavar="CASE", help="The case's name.")]
CondArg = Annotated[str, typer.Argument(metavar="CONDITION", help="The condition's name.")]
AttrOpt = Annotated[list[str] | None, typer.Option("--attribute", help="KEY=VALUE (repeatable), e.g. sector=health.")]
CasesAsOpt = Annotated[str, typer.Option("--cases-as", help="Cases as 'rows' or 'columns' of the table.")]


def _attributes(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for text in pairs or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ValidationError(Errors.E6015, text=text)
        out[key.strip()] = value.strip()
    return out


def _case_out(c: Any) -> dict[str, Any]:
    return {"name": c.name, "kind": c.kind, "description": c.description, "attributes": c.attributes,
            "participants": list(c.participants), "evidence": list(c.evidence), "guid": c.guid}


# -- cases ---------------------------------------------------------------------------------------------
@case_app.command("add")
def case_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The case's name, e.g. 'Programme A'.")],
    kind: Annotated[str, typer.Option(help="participant, programme, organisation, event... (your word).")] = "case",
    description: Annotated[str, typer.Option(help="What the case is.")] = "",
    attribute: AttrOpt = None,
    participant: Annotated[list[str] | None, typer.Option(help="Link this participant (repeatable).")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Create a case."""
    with handled():
        c = open_(project).cases.add(name, kind=kind, description=description, attributes=_attributes(attribute),
                                     participants=participant or [], note=note)
        emit(_case_out(c), as_json=as_json, render=lambda r: typer.echo(f"Added case '{r['name']}' ({r['kind']})"))


@case_app.command("list")
def case_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The cases: name, kind, attributes, participants, linked codings."""
    with handled():
        rows = [_case_out(c) for c in open_(project).cases.list()]
        emit({"cases": rows}, as_json=as_json, render=lambda r: table(
            [{**c, "attributes": ", ".join(f"{k}={v}" for k, v in c["attributes"].items()),
              "participants": ", ".join(c["participants"]), "evidence": len(c["evidence"])} for c in r["cases"]],
            ["name", "kind", "attributes", "participants", "evidence"]))


@case_app.command("edit")
def case_edit(
    case: CaseArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    kind: Annotated[str | None, typer.Option(help="A new kind.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    attribute: AttrOpt = None, note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Rename a case, change its kind or description, set attributes."""
    with handled():
        c = open_(project).cases.edit(case, new_name=name, kind=kind, description=description,
                                      attributes=_attributes(attribute), note=note)
        emit(_case_out(c), as_json=as_json, render=lambda r: typer.echo(f"Edited case '{r['name']}'"))


@case_app.command("link")
def case_link(
    case: CaseArg,
    coding: Annotated[int | None, typer.Option(help="A coding's id (see `storyloom codings`): evidence.")] = None,
    participant: Annotated[str | None, typer.Option(help="A participant's pseudonym.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Link a case to a coded passage (evidence) or to a participant."""
    with handled():
        open_(project).cases.link(case, coding=coding, participant=participant, note=note)
        emit({"case": case, "coding": coding, "participant": participant, "linked": True}, as_json=as_json,
             render=lambda r: typer.echo(f"Linked '{case}'"))


@case_app.command("unlink")
def case_unlink(
    case: CaseArg,
    coding: Annotated[int | None, typer.Option(help="A linked coding's id.")] = None,
    participant: Annotated[str | None, typer.Option(help="A linked participant.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Remove a link of a case (a coding is detached from the case's cells too)."""
    with handled():
        open_(project).cases.unlink(case, coding=coding, participant=participant, note=note)
        emit({"case": case, "coding": coding, "participant": participant, "unlinked": True}, as_json=as_json,
             render=lambda r: typer.echo(f"Unlinked from '{case}'"))


@case_app.command("remove")
def case_remove(case: CaseArg, note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Remove a case with its links and cells (undoable)."""
    with handled():
        open_(project).cases.remove(case, note=note)
        emit({"removed": case}, as_json=as_json, render=lambda r: typer.echo(f"Removed case '{case}' (undo restores it)"))


@case_app.command("evidence")
def case_evidence(case: CaseArg, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The coded passages linked to a case, and the cells they justify."""
    with handled():
        df = open_(project).cases.evidence(case)
        rows = [{"coding_id": int(r["coding_id"]), "code": r["code_path"], "participant": r["participant"],
                 "transcript": r["transcript"], "text": r["text"], "cells": r["cells"]} for _, r in df.iterrows()]
        emit({"case": case, "evidence": rows}, as_json=as_json,
             render=lambda r: table(r["evidence"], ["coding_id", "code", "participant", "cells", "text"]))


@case_app.command("from-participants")
def case_from_participants(
    kind: Annotated[str, typer.Option(help="The kind of the new cases.")] = "participant",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Make a case of every participant (linked to them) that has none of that name yet."""
    with handled():
        made = open_(project).cases.from_participants(kind=kind, note=note)
        emit({"made": made}, as_json=as_json, render=lambda r: typer.echo(f"Made {len(made)} cases"))


# -- conditions ----------------------------------------------------------------------------------------
def _cond_out(c: Any) -> dict[str, Any]:
    return {"name": c.name, "code": c.code or None, "outcome": c.is_outcome, "description": c.description,
            "guid": c.guid}


@condition_app.command("add")
def condition_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The condition, e.g. 'Commissioned by a client'.")],
    code: Annotated[str | None, typer.Option(help="Tie it to a code: its passages linked to a case are offered as evidence.")] = None,
    outcome: Annotated[bool, typer.Option("--outcome", help="This condition is the outcome.")] = False,
    description: Annotated[str, typer.Option(help="What counts as present.")] = "",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Add a condition (a column of the matrix)."""
    with handled():
        c = open_(project).cases.add_condition(name, code=code, outcome=outcome, description=description, note=note)
        emit(_cond_out(c), as_json=as_json, render=lambda r: typer.echo(
            f"Added {'the outcome' if r['outcome'] else 'condition'} '{r['name']}'"))


@condition_app.command("edit")
def condition_edit(
    condition: CondArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    code: Annotated[str | None, typer.Option(help="Tie it to this code.")] = None,
    untie: Annotated[bool, typer.Option(help="Tie it to no code.")] = False,
    outcome: Annotated[bool | None, typer.Option("--outcome/--not-outcome", help="Make it (or not) the outcome.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Rename a condition, tie it to a code, make it the outcome."""
    with handled():
        c = open_(project).cases.edit_condition(condition, new_name=name, code=code, untie=untie, outcome=outcome,
                                                description=description, note=note)
        emit(_cond_out(c), as_json=as_json, render=lambda r: typer.echo(f"Edited condition '{r['name']}'"))


@condition_app.command("remove")
def condition_remove(condition: CondArg, note: NoteOpt = "", project: ProjectOpt = Path("."),
                     as_json: JsonOpt = False) -> None:
    """Remove a condition and its cells (undoable)."""
    with handled():
        open_(project).cases.remove_condition(condition, note=note)
        emit({"removed": condition}, as_json=as_json, render=lambda r: typer.echo(f"Removed condition '{condition}'"))


@condition_app.command("list")
def condition_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The conditions in matrix order."""
    with handled():
        rows = [_cond_out(c) for c in open_(project).cases.conditions()]
        emit({"conditions": rows}, as_json=as_json, render=lambda r: table(r["conditions"], ["name", "code", "outcome"]))


# -- the matrix ----------------------------------------------------------------------------------------
@matrix_app.command("set")
def matrix_set(
    case: CaseArg, condition: CondArg,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="1, 0, a number in [0, 1], or clear.")],
    evidence: Annotated[list[int] | None, typer.Option(help="A coding id justifying it (repeatable).")] = None,
    note: Annotated[str | None, typer.Option(help="A short justification.")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Judge a cell of the matrix (with evidence and a note), or clear it."""
    with handled():
        p = open_(project)
        p.cases.set_cell(case, condition, value, evidence=evidence or [], note=note)
        name, cond = p.cases.get(case).name, p.cases.condition(condition).name
        cell = p.cases.matrix().cells.get((name, cond))
        emit({"case": name, "condition": cond, "value": None if cell is None else cell.value,
              "evidence": [] if cell is None else list(cell.evidence), "note": "" if cell is None else cell.note},
             as_json=as_json, render=lambda r: typer.echo(f"{name} x {cond}: {format_cell(r['value'])}"))


@matrix_app.command("show")
def matrix_show(cases_as: CasesAsOpt = "columns", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The matrix: ✓ / ✗ / partial value / – (not judged)."""
    from analysis.domain.cases import matrix_table

    with handled():
        m = open_(project).cases.matrix()

        def render(_r: Any) -> None:
            header, rows = matrix_table(m, cases_as=cases_as)
            table([dict(zip(header, row)) for row in rows], header)

        emit(m.to_json(), as_json=as_json, render=render)


@matrix_app.command("suggest")
def matrix_suggest(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Machine suggestions for cells not yet judged (from codings of a condition's code linked to a case)."""
    with handled():
        rows = [asdict(s) for s in open_(project).cases.suggestions()]
        emit({"suggestions": rows}, as_json=as_json,
             render=lambda r: table(r["suggestions"], ["case", "condition", "value", "reason"]))


@matrix_app.command("accept")
def matrix_accept(case: CaseArg, condition: CondArg, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Accept the machine suggestion for a cell (recorded as an accepted suggestion)."""
    with handled():
        open_(project).cases.accept_suggestion(case, condition)
        emit({"case": case, "condition": condition, "accepted": True}, as_json=as_json,
             render=lambda r: typer.echo(f"Accepted the suggestion for {case} x {condition}"))


@matrix_app.command("import")
def matrix_import(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A CSV: first header cell 'case' or 'condition'.")],
    cases_as: Annotated[str | None, typer.Option("--cases-as", help="rows|columns, when the first header cell says neither.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Bring in a matrix built in a spreadsheet (all or nothing)."""
    with handled():
        report = open_(project).case_tables.import_csv(path, cases_as=cases_as, note=note)
        emit(report, as_json=as_json, render=lambda r: typer.echo(
            f"Imported {r.cells} cells: {len(r.cases)} cases, {len(r.conditions)} conditions"))


@matrix_app.command("export")
def matrix_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    format: Annotated[str | None, typer.Option(help="md, docx, tex, html, csv or xlsx (default: from the file name).")] = None,
    evidence: Annotated[bool, typer.Option("--evidence", help="Append each cell's justifying quotes.")] = False,
    outcome: Annotated[str | None, typer.Option(help="Add the comparison for this outcome (default: the marked one).")] = None,
    cases_as: CasesAsOpt = "columns", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Write the matrix as a publication table (✓ / ✗), with the comparison and an evidence appendix."""
    with handled():
        p = open_(project)
        out = p.case_tables.export(output, format=format, cases_as=cases_as, evidence=evidence, outcome=outcome)
        result: dict[str, Any] = {"path": str(out), "warnings": p.case_tables.last_warnings}
        if p.case_tables.last_evidence_path is not None:
            result["evidence_path"] = str(p.case_tables.last_evidence_path)

        def render(r: dict[str, Any]) -> None:
            typer.echo(f"Wrote {r['path']}" + (f" and its evidence appendix {r['evidence_path']}"
                                              if "evidence_path" in r else ""))
            for w in r["warnings"]:
                typer.echo(f"Warning: {w}", err=True)

        emit(result, as_json=as_json, render=render)


@app.command("compare")
def compare_cmd(
    outcome: Annotated[str | None, typer.Option(help="The outcome condition (default: the one marked as outcome).")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Set-theoretic comparison: per condition, necessity/sufficiency consistency and coverage; the truth table."""
    with handled():
        result = open_(project).cases.compare(outcome)

        def render(r: Comparison) -> None:
            typer.echo(f"Outcome: {r.outcome}  (with: {', '.join(r.with_outcome) or 'none'}; "
                       f"without: {', '.join(r.without_outcome) or 'none'})")
            table([{"condition": c.name, "nec.cons": c.necessity_consistency, "nec.cov": c.necessity_coverage,
                    "suf.cons": c.sufficiency_consistency, "suf.cov": c.sufficiency_coverage,
                    "in all outcome": c.present_in_all_outcome_cases,
                    "absent in others": c.absent_in_all_other_cases} for c in r.conditions],
                  ["condition", "nec.cons", "nec.cov", "suf.cons", "suf.cov", "in all outcome", "absent in others"])
            from analysis.domain.cases import separating_sentence

            typer.echo(separating_sentence(r))
            for c in r.contradictions:
                typer.echo(f"Contradictory configuration: {list(c.with_outcome)} vs {list(c.without_outcome)}")
            typer.echo(r.note)

        emit(_comparison_json(result) if as_json else result, as_json=as_json, render=render)


def _comparison_json(result: Comparison) -> dict[str, Any]:
    """The comparison as ``compare --json`` has always printed it: its fields, but a left-out case's conditions
    at 0.5 under "at_0.5" (a name no field can have)."""
    data = asdict(result)
    for case in data["incomplete_cases"]:
        case["at_0.5"] = case.pop("at_half")
    return data
