"""The transparency report: a short, factual methods paragraph and a table, generated from the audit
trail and the project's current state, as one :class:`~analysis.export.document.Document` that every export
format renders (:func:`report_document`).

It says what the researcher did and what the machine did: the researcher constructed the codes and
themes and applied every coding; a local sentence-embedding model only proposed passages (search hits,
"more like this code" suggestions, groupings of uncoded text) for the researcher to accept or reject.
Counts of tool use come from the audit trail (events undone by the researcher are left out), so each
number can be traced to dated events.

This module builds the report from plain values (:func:`build_report`, :func:`report_document`); the
service that gathers them from a project is :class:`analysis.services.exports.ExportService`
(``project.exports.methods_report()``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from analysis.domain.model import AuditEvent
from analysis.export import formats_for, render_document
from analysis.export.document import Block, Document, Paragraph, Table

LIVE = ("done", "final")
REPORT_FORMATS = formats_for("methods")


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


REPORT_TITLE = "Methods: the analysis process"


@dataclass(frozen=True)
class Measure:
    """A row of the report's table: what was counted, and the count (or counts, in words)."""

    measure: str
    value: int | str


class TakenSnapshot(Protocol):
    """What the report reads of a codebook snapshot (as :meth:`CodebookFileService.snapshots` gives them): its
    label, phase, when it was taken (``created_at``) and its top-level ``codes``."""

    @property
    def label(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def codes(self) -> Sequence[object]: ...


@dataclass(frozen=True)
class SnapshotLine:
    """A codebook snapshot as the report lists it."""

    label: str
    phase: str
    date: str
    top_level: int


@dataclass(frozen=True)
class MethodsReport:
    """The methods report: the ``paragraph``, the ``matrix_paragraph`` (how the case x condition matrix was
    built; empty without cases), the ``counts`` behind them (names as in :func:`build_report`), the ``table`` of
    measures, the codebook ``snapshots``, the day it was ``generated``, the last inter-coder comparison
    (``agreement``: an ``agreement.compare`` event's after, with its date) and the whole as ``markdown``."""

    paragraph: str
    matrix_paragraph: str
    counts: dict[str, Any]
    table: tuple[Measure, ...]
    snapshots: tuple[SnapshotLine, ...]
    generated: str
    agreement: dict[str, Any] | None = None

    @property
    def markdown(self) -> str:
        """The report as Markdown (:func:`report_document` through the Markdown renderer)."""
        return render_document(report_document(self), "md").decode("utf-8")


def build_report(
    trail: Iterable[AuditEvent], status: Mapping[str, int], code_kinds: Iterable[str], origins: Iterable[str],
    snapshots: Sequence[TakenSnapshot], matrix: Mapping[str, Any] | None = None,
) -> MethodsReport:
    """The methods report from the audit trail (``trail``, oldest first), the project's counts (``status``,
    as :func:`analysis.store.stats.counts`), the kind of every code, the origin of every coding and the
    codebook snapshots: the paragraph, the counts behind it (``counts``), a ``table`` of measures, the
    snapshots by phase, and the whole as ``markdown``. ``matrix``: how the case x condition matrix was
    built (:meth:`analysis.services.cases.CaseService.matrix_counts`), when there are cases; it adds the
    ``matrix_paragraph``, ``counts["matrix"]`` and its rows of the table."""
    events = [e for e in trail if e.state in LIVE]
    acts = Counter(e.action for e in events)
    modes = Counter((e.after or {}).get("mode", "semantic") for e in events if e.action == "assist.search")
    kinds = Counter(code_kinds)
    origin_counts = Counter(origins)
    from_suggestions = sum(n for o, n in origin_counts.items() if str(o).startswith("suggestion:more-like-this"))
    from_patterns = sum(n for o, n in origin_counts.items() if str(o).startswith("suggestion:pattern"))
    from_search = sum(n for o, n in origin_counts.items() if str(o).startswith("search"))
    coding_events = [e for e in events if e.action.startswith(("coding.", "pattern.make_code", "code."))]
    total = sum(origin_counts.values())
    counts = {
        "transcripts": status["transcripts"], "participants": status["participants"],
        "codes": kinds.get("code", 0), "candidate_themes": kinds.get("candidate theme", 0),
        "themes": kinds.get("theme", 0), "codings": int(total),
        "codings_direct": int(total - from_suggestions - from_patterns - from_search),
        "codings_from_suggestions": int(from_suggestions), "codings_from_patterns": int(from_patterns),
        "codings_from_search": int(from_search),
        "searches": acts["assist.search"], "searches_semantic": modes["semantic"],
        "searches_keyword": modes["keyword"], "searches_hybrid": modes["hybrid"],
        "suggestion_runs": acts["assist.suggest"], "suggestions_accepted": acts["coding.accept_suggestion"],
        "suggestions_rejected": acts["suggestion.reject"], "pattern_reviews": acts["assist.patterns"],
        "patterns_dismissed": acts["pattern.dismiss"], "codes_from_patterns": acts["pattern.make_code"],
        "consistency_checks": acts["assist.check"], "snapshots": len(snapshots),
        "coders": len({e.who for e in coding_events}),
        **_recordings(events),
    }
    phased: list[dict[str, Any]] = [{"label": s.label, "phase": s.phase or "(no phase)",
                                     "date": s.created_at[:10], "top_level": len(s.codes)} for s in snapshots]
    period = (coding_events[0].at[:10], coding_events[-1].at[:10]) if coding_events else None
    compared = [e for e in events if e.action == "agreement.compare" and isinstance(e.after, dict)]
    agreement = reported_agreement(compared)
    transcription = transcription_counts(events)
    counts |= {"transcribed": transcription["recordings"], "transcription_corrections": transcription["corrections"]}
    paragraph = methods_paragraph(counts, phased, period, agreement=agreement,
                                  transcription=transcription if transcription["recordings"] else None)
    by_mode = f"{counts['searches']} ({modes['semantic']} / {modes['keyword']} / {modes['hybrid']})"
    shown: dict[str, Any] = counts | {"searches": by_mode}
    table = [{"measure": m, "value": shown[k]} for m, k in (
        ("Transcripts", "transcripts"), ("Participants", "participants"), ("Themes", "themes"),
        ("Candidate themes", "candidate_themes"), ("Codes", "codes"), ("Codings (all)", "codings"),
        ("Codings applied directly by the researcher", "codings_direct"),
        ("Codings from accepted machine suggestions", "codings_from_suggestions"),
        ("Codings from machine-grouped patterns", "codings_from_patterns"),
        ("Codings from search hits", "codings_from_search"),
        ("Searches (semantic / keyword / hybrid)", "searches"), ("Suggestion runs", "suggestion_runs"),
        ("Machine suggestions accepted", "suggestions_accepted"),
        ("Machine suggestions rejected", "suggestions_rejected"),
        ("Reviews of patterns in uncoded text", "pattern_reviews"), ("Patterns dismissed", "patterns_dismissed"),
        ("Codes made from patterns", "codes_from_patterns"), ("Consistency checks run", "consistency_checks"),
        ("Codebook snapshots", "snapshots"))]
    if transcription["recordings"]:
        table += [{"measure": "Recordings transcribed locally", "value": counts["transcribed"]},
                  {"measure": "Corrections of machine transcripts by the researcher",
                   "value": counts["transcription_corrections"]}]
    matrix_paragraph = ""
    if matrix:
        from analysis.domain.cases import matrix_methods_paragraph

        matrix_paragraph = matrix_methods_paragraph(dict(matrix))
        table += [{"measure": m, "value": matrix[k]} for m, k in (
            ("Cases compared", "cases"), ("Conditions (besides the outcome)", "conditions"),
            ("Matrix cells judged", "judged"), ("Matrix cells in all", "cells"),
            ("Judged cells with evidence (coded passages)", "with_evidence"),
            ("Judged cells from accepted machine suggestions", "suggestions_accepted"))]
    return MethodsReport(paragraph, matrix_paragraph, counts | ({"matrix": dict(matrix)} if matrix else {}),
                         tuple(Measure(m["measure"], m["value"]) for m in table),
                         tuple(SnapshotLine(**s) for s in phased), date.today().isoformat(), agreement)


def _recordings(events: Sequence[AuditEvent]) -> dict[str, int]:
    """How many transcripts have a recording attached now, and the corrections made while listening (a
    correction undone is left out, and so is the reversal itself)."""
    attached: dict[str, bool] = {}
    for e in events:
        if e.action in ("media.attach", "media.detach"):
            attached[e.target] = e.action == "media.attach"
    fixes = [e for e in events if e.action == "transcript.correct" and e.note != "undo"]
    return {"recordings": sum(attached.values()), "corrections": len(fixes),
            "corrected_transcripts": len({e.target for e in fixes})}


def recordings_sentence(c: Mapping[str, int]) -> str:
    """How the transcripts were checked against their recordings, or "" when none was attached or corrected."""
    if not c.get("recordings") and not c.get("corrections"):
        return ""
    one = c["recordings"] == 1
    out = (f"{_n(c['recordings'], 'transcript')} had {'its' if one else 'their'} recording attached and "
           f"{'was' if one else 'were'} read beside it (the recordings stayed on the researcher's computer)")
    if c.get("corrections"):
        out += (f"; the researcher corrected {_n(c['corrected_transcripts'], 'transcript')} while listening "
                f"({_n(c['corrections'], 'correction')})")
    return out + ". "


def methods_paragraph(c: Mapping[str, int], snapshots: Sequence[Mapping[str, Any]],
                      period: tuple[str, str] | None, *, agreement: Mapping[str, Any] | None = None,
                      transcription: Mapping[str, Any] | None = None) -> str:
    """The methods paragraph: what the researcher did and what the machine did, from the counts; with the
    last inter-coder comparison (the ``after`` of an ``agreement.compare`` event, plus its ``date``), a
    sentence reporting it with its unit and statistics; with ``transcription`` (:func:`transcription_counts`),
    how many recordings were transcribed locally and corrected."""
    when = f" between {period[0]} and {period[1]}" if period and period[0] != period[1] else (
        f" on {period[0]}" if period else "")
    parts = [
        "The analysis followed reflexive thematic analysis (Braun & Clarke). "
        f"{_n(c['transcripts'], 'interview transcript')} from {_n(c['participants'], 'participant')} "
        f"were coded in Storyloom{when}. "
        f"The researcher{'s' if c['coders'] > 1 else ''} constructed {_n(c['themes'], 'theme')}"
        + (f" and {_n(c['candidate_themes'], 'candidate theme')}" if c["candidate_themes"] else "")
        + f" from {_n(c['codes'], 'code')}, and applied "
        f"{_n(c['codings'], 'coding')}: {c['codings_direct']} directly, "
        f"{c['codings_from_suggestions']} by accepting passages proposed by the software's "
        "\"more like this code\" suggestions"
        + (f", {c['codings_from_search']} from search hits" if c["codings_from_search"] else "")
        + (f", {c['codings_from_patterns']} from passages the software had grouped in uncoded text"
           if c["codings_from_patterns"] else "")
        + ". ",
        "Suggestions, searches and groupings came from a sentence-embedding model (all-MiniLM-L6-v2) running "
        "locally; the software only proposed passages and never applied a code. ",
        f"The researcher ran {_n(c['searches'], 'search', 'searches')} ({c['searches_semantic']} semantic, "
        f"{c['searches_keyword']} keyword, {c['searches_hybrid']} hybrid), asked for suggestions "
        f"{_n(c['suggestion_runs'], 'time')}, accepted {c['suggestions_accepted']} and rejected "
        f"{c['suggestions_rejected']} machine suggestion{'s' if c['suggestions_rejected'] != 1 else ''}, reviewed "
        f"machine-grouped patterns in uncoded text {_n(c['pattern_reviews'], 'time')} (dismissing "
        f"{c['patterns_dismissed']}, making {_n(c['codes_from_patterns'], 'code')} from them) and ran "
        f"{_n(c['consistency_checks'], 'consistency check')}. ",
    ]
    parts.insert(1, recordings_sentence(c))
    if snapshots:
        phases = Counter(s["phase"] for s in snapshots)
        parts.append(f"The codebook was recorded in {_n(len(snapshots), 'snapshot')} ("
                     + ", ".join(f"{n} in {p}" for p, n in phases.items()) + "). ")
    if agreement:
        parts.append(agreement_sentence(agreement))
    if transcription:
        parts.append(transcription_sentence(transcription))
    parts.append("Every count here is generated from the project's audit trail.")
    return "".join(parts)


#: The unit of an agreement comparison, in words.
# the character unit counts what was said, and the sentence says so (a reader of the methods recomputes it)
UNIT_WORDS = {"character": "characters of what was said (not speaker labels, times or line breaks)", "sentence": "sentences", "turn": "speaker turns"}


def agreement_statistics(overall: Mapping[str, Any], n_coders: int) -> str:
    """"percent agreement 0.850, Cohen's kappa 0.318, Krippendorff's alpha (nominal) 0.320": three decimals
    (as reliability statistics are reported), kappa only for two coders, "undefined" where it is."""
    def num(v: Any) -> str:
        return "undefined" if v is None else f"{float(v):.3f}"

    def over(key: str) -> str:  # the units each statistic used (recorded since issue 25; older runs lack it)
        n = overall.get(key)
        return "" if n is None else f" over {int(n):,} {'unit' if int(n) == 1 else 'units'}"

    stats = [f"percent agreement {num(overall.get('percent_agreement'))}{over('units_all_coders')}"]
    if n_coders == 2:
        stats.append(f"Cohen's kappa {num(overall.get('cohen_kappa'))}{over('units_all_coders')}")
    stats.append(f"Krippendorff's alpha (nominal) {num(overall.get('krippendorff_alpha'))}{over('units')}")
    return ", ".join(stats)


def coders_with_transcripts(coders: Sequence[str], per_coder: Mapping[str, int] | None) -> str:
    """"A (3 transcripts), B (2 transcripts)": each coder with how many of the compared transcripts they coded."""
    if not per_coder:
        return ", ".join(coders)
    return ", ".join(f"{c} ({_n(int(per_coder.get(c, 0)), 'transcript')})" for c in coders)


def reported_agreement(compared: Sequence[AuditEvent]) -> dict[str, Any] | None:
    """The comparison the methods report reports: the last one the researcher marked to report
    (``storyloom agreement --report``), else the last one run, saying which (``chosen``)."""
    marked = [e for e in compared if isinstance(e.after, dict) and e.after.get("report")]
    event = (marked or list(compared))[-1] if compared else None
    if event is None or not isinstance(event.after, dict):
        return None
    chosen = "the comparison marked to report" if marked else \
        "the last comparison run; `storyloom agreement --report` marks the one to report"
    return {**event.after, "date": event.at[:10], "chosen": chosen, "runs": len(compared)}


def agreement_sentence(a: Mapping[str, Any]) -> str:
    """Inter-coder agreement as a methods sentence: coders (and the transcripts each coded), unit, statistics
    to three decimals (from ``agreement.compare``)."""
    unit = UNIT_WORDS.get(str(a.get("unit")), "units")
    coders = [str(x) for x in a.get("coders") or []]
    o = a.get("overall") or {}
    over = f" of {_n(int(a['transcripts']), 'transcript')}" if a.get("transcripts") else ""
    return (f"As a coding-reliability check of the shared codebook, {_n(len(coders), 'coder')} "
            f"({coders_with_transcripts(coders, a.get('transcripts_per_coder'))}) coded independently; agreement "
            f"over {_n(int(a.get('codes') or 0), 'code')}{over}, with {unit} as the unit "
            f"({int(o.get('units') or 0):,} code-unit pairs), was {agreement_statistics(o, len(coders))} "
            f"(computed on {a.get('date', '')}{_which(a)}). ")


def _which(a: Mapping[str, Any]) -> str:
    """", one of 3 comparisons run: the last ..." where more than one was run."""
    runs = int(a.get("runs") or 1)
    return f"; {a['chosen']}, of {runs} comparisons run" if runs > 1 and a.get("chosen") else ""


def transcription_counts(events: Sequence[AuditEvent]) -> dict[str, Any]:
    """Recordings transcribed (``transcript.transcribe`` events), the models and languages, and the
    researcher's corrections: changes of a transcribed transcript's text after its transcription (each
    correction made while listening, ``transcript.correct``, and each ``transcript.update`` of it, e.g. a
    corrected file synced; an undone correction and its reversal are left out)."""
    done = [e for e in events if e.action == "transcript.transcribe"]
    since: dict[str, int] = {}
    for e in done:
        since[e.target] = e.id  # the last transcription of each transcript
    corrections = sum(1 for e in events if (e.action == "transcript.update" or (e.action == "transcript.correct"
                                                                         and e.note != "undo"))
                      and e.target in since and e.id > since[e.target])
    after = [e.after if isinstance(e.after, dict) else {} for e in done]
    return {"recordings": len(since), "corrections": corrections,
            "models": sorted({str(a.get("model", "Whisper base (int8)")) for a in after}),
            "languages": sorted({str(a["language"]) for a in after if a.get("language")})}


def transcription_sentence(t: Mapping[str, Any]) -> str:
    """``2 recordings were transcribed locally with Whisper base (int8) and corrected by the researcher: 5
    corrections.`` (with the detected languages)."""
    models = " and ".join(t["models"])
    langs = f" (detected language: {', '.join(t['languages'])})" if t["languages"] else ""
    were = "was" if t["recordings"] == 1 else "were"
    return (f"{_n(int(t['recordings']), 'recording')}{langs} {were} transcribed locally with {models} and corrected "
            f"by the researcher: {_n(int(t['corrections']), 'correction')}. ")


def report_document(report: MethodsReport) -> Document:
    """The report as a :class:`~analysis.export.document.Document` (a section of a manuscript, titled
    "Methods: the analysis process"): the paragraphs, the table of measures, the codebook snapshots; every
    renderer of :data:`analysis.export.EXPORT_FORMATS` prints it, escaping every string a researcher wrote
    (coders' and snapshots' names, phases) as in a vignette."""
    blocks: list[Block] = [Paragraph((report.paragraph,))]
    if report.matrix_paragraph:
        blocks.append(Paragraph((report.matrix_paragraph,)))
    blocks.append(Table(("Measure", "Value"), tuple((m.measure, str(m.value)) for m in report.table)))
    if report.snapshots:
        blocks += [Paragraph(("Codebook snapshots:",)),
                   Table(("Snapshot", "Phase", "Date", "Top-level codes"),
                         tuple((s.label, s.phase, s.date, str(s.top_level)) for s in report.snapshots))]
    blocks.append(Paragraph((f"Generated by Storyloom from the audit trail on {report.generated}.",), emphasis=True))
    return Document(REPORT_TITLE, tuple(blocks), section=True, created=report.generated)
