"""The methods text reports agreement as it is reported in print (issue 25, class 11): statistics to three
decimals, each coder with how many of the compared transcripts they coded, and the unit used; the same in
the agreement result's own sentence and in the methods report built from the audit trail."""

from __future__ import annotations

from typing import Any

from tests.services.test_team import THOUSAND, _coded_by_two, team_project  # noqa: F401 - the fixture


def test_agreement_is_reported_to_three_decimals_with_each_coders_transcripts(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND, "b.txt": THOUSAND})
    _coded_by_two(p)
    p.codings.add_coding(transcript="b.txt", start=0, end=40, code="Delay", coder="A")  # only A coded b.txt
    r = p.agreement.compare(["A", "B"], codes=["Delay"])
    assert r.transcripts_per_coder == {"A": 2, "B": 1}
    for text in (r.methods, p.exports.methods_report().paragraph):
        assert "A (2 transcripts), B (1 transcript)" in text, text
        assert "characters of what was said (not speaker labels, times or line breaks) as the unit" in text
        assert "percent agreement 0." in text and "Cohen's kappa 0." in text
        stats = text.split("percent agreement ")[1]
        value = stats.split(" ")[0]
        assert len(value.split(".")[1]) == 3, value
    assert "of 2 transcripts" in p.exports.methods_report().paragraph


def test_undefined_statistics_stay_words(team_project: Any) -> None:
    from analysis.domain.methods_report import agreement_statistics

    assert agreement_statistics({"percent_agreement": 1.0, "cohen_kappa": None, "krippendorff_alpha": None}, 2) == \
        "percent agreement 1.000, Cohen's kappa undefined, Krippendorff's alpha (nominal) undefined"
    assert "kappa" not in agreement_statistics({"percent_agreement": 0.5}, 3)


def test_each_statistic_says_how_many_units_it_used(team_project: Any) -> None:
    """Percent agreement uses the units every coder rated; alpha those at least two rated: with C coding
    a.txt only, alpha uses both transcripts' characters and percent agreement a.txt's; the text says both."""
    p = team_project(transcripts={"a.txt": THOUSAND, "b.txt": THOUSAND})
    _coded_by_two(p)
    p.codings.add_coding(transcript="b.txt", start=0, end=40, code="Delay", coder="A")
    p.codings.add_coding(transcript="b.txt", start=10, end=60, code="Delay", coder="B")
    p.codings.add_coding(transcript="a.txt", start=120, end=220, code="Delay", coder="C")  # C coded a.txt only
    r = p.agreement.compare(["A", "B", "C"], codes=["Delay"])
    o = r.overall
    assert o.units_all_coders < o.units, o
    assert o.percent_agreement is not None and o.krippendorff_alpha is not None
    for text in (r.methods, p.exports.methods_report().paragraph):
        assert f"percent agreement {o.percent_agreement:.3f} over {o.units_all_coders:,} units" in text, text
        assert f"Krippendorff's alpha (nominal) {o.krippendorff_alpha:.3f} over {o.units:,} units" in text, text


def test_the_methods_report_reports_the_marked_comparison_and_says_which(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND, "b.txt": THOUSAND})
    _coded_by_two(p)
    p.agreement.compare(["A", "B"], codes=["Delay"], unit="sentence")
    text = p.exports.methods_report().paragraph
    assert "sentences as the unit" in text and "comparisons run" not in text  # one run: nothing to choose
    p.agreement.compare(["A", "B"], codes=["Delay"], unit="character", report=True)
    p.agreement.compare(["A", "B"], codes=["Fear"], unit="turn")
    text = p.exports.methods_report().paragraph
    assert "characters of what was said (not speaker labels, times or line breaks) as the unit" in text and "speaker turns as the unit" not in text, text
    assert "the comparison marked to report, of 3 comparisons run" in text, text


def test_the_methods_report_says_it_reports_the_last_comparison_when_none_is_marked(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND})
    _coded_by_two(p)
    p.agreement.compare(["A", "B"], unit="sentence")
    p.agreement.compare(["A", "B"], unit="turn")
    text = p.exports.methods_report().paragraph
    assert "speaker turns as the unit" in text
    assert "the last comparison run; `storyloom agreement --report` marks the one to report, of 2" in text, text


def test_the_character_unit_counts_what_was_said(team_project: Any) -> None:
    """Speaker labels, cue and inline times and line breaks are not units (issue 25, class 11): a coder who
    codes only words, and another who also sweeps the label and the line break into the span, agree on every
    unit; the units are exactly the characters of the turns' words."""
    text = ("Interviewer: How did the year start?\n"
            "Leader A: [00:01:05] We waited.\nThen the money came.\n"
            "Leader B: Slowly, for us.\n")
    p = team_project(transcripts={"t.txt": text})
    p.codebook.add_code("Delay")
    turns = p.transcripts.turns("t.txt")
    assert [t.speaker for t in turns] == ["Interviewer", "Leader A", "Leader B"]
    spoken = "".join(text[t.start:t.end] for t in turns).replace("\n", "").replace("[00:01:05]", "")
    words = text.index("[00:01:05]")  # the time and the space after it: the time is no unit
    label = text.index("Leader A:")
    end = text.index("Leader B:")  # A's span runs on over the line break and B's label
    p.codings.add_coding(transcript="t.txt", start=words, end=text.index("came.") + 5, code="Delay", coder="A")
    p.codings.add_coding(transcript="t.txt", start=text.index("Slowly"), end=len(text) - 1, code="Delay", coder="A")
    p.codings.add_coding(transcript="t.txt", start=text.index("Slowly"), end=len(text), code="Delay", coder="B")
    p.codings.add_coding(transcript="t.txt", start=label, end=end, code="Delay", coder="B")
    r = p.agreement.compare(["A", "B"])
    o = r.overall
    assert o.units == o.units_all_coders == len(spoken), (o, spoken)
    assert o.percent_agreement == 1.0, o  # the label, the time and the line breaks are nobody's units
    assert f"over {len(spoken):,} units" in r.methods
    assert p.agreement.disagreements(["A", "B"]) == []  # the comparison view agrees with the statistic
    p.codings.add_coding(transcript="t.txt", start=text.index("How"), end=text.index("How") + 3, code="Delay", coder="A")
    [passage] = p.agreement.disagreements(["A", "B"])
    assert passage.text == "How" and passage.coded_by == ("A",)
