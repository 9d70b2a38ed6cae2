"""One sync is one transaction over every file of ``codebooks/`` it applies (issue 25, class 5): a valid
``cases.yaml`` with a ``story.yaml`` that is refused (a bad entry, or a quote that matches no coding)
leaves no case, condition or codebook behind: a before/after dump of every table shows the sync's files
were applied whole or not at all (the transcripts' own sync, a separate step, is kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from analysis.errors import StoryloomError
from tests.conftest import table_dump

INTERVIEW = "Interviewer: How was it?\n\nLeader A: It was hard. The approval took fourteen months.\n"
CODEBOOK = "storyloom_codebook: 1\ncodes:\n  - name: Delay\n"
CODINGS = ("storyloom_codings: 1\ncodings:\n  - transcript: a.txt\n    code: Delay\n    quote: The approval took "
           "fourteen months\n")
CASES = ("storyloom_cases: 1\nconditions:\n  - name: Commissioned\ncases:\n  - name: Programme A\n    cells:\n"
         "      Commissioned:\n        value: 1\n")
STORIES = {
    "a bad entry": "storyloom_story: 1\nperiods:\n  - name: [not, text]\n",
    "a quote that matches no coding": ("storyloom_story: 1\nevents:\n  - name: Approval\n    when: unknown\n"
                                       "    evidence:\n      - transcript: a.txt\n        quote: never said\n"),
}


@pytest.mark.parametrize("story", list(STORIES))
def test_a_refused_story_file_leaves_no_cases_and_no_codebook(story: str, make_project: Callable[..., Any]) -> None:
    p = make_project(transcripts={"a.txt": INTERVIEW})  # transcripts synced: the step before the files
    books = p.path / "codebooks"
    books.mkdir()
    for name, text in (("codebook.yaml", CODEBOOK), ("codings.yaml", CODINGS), ("cases.yaml", CASES),
                       ("story.yaml", STORIES[story])):
        (books / name).write_text(text, encoding="utf-8")
    before = table_dump(p.path)
    with pytest.raises(StoryloomError) as err:
        p.sync()
    assert "story.yaml" in str(err.value)
    assert table_dump(p.path) == before
    assert p.cases.list() == [] and p.codebook.codes() == []
    (books / "story.yaml").unlink()  # the file fixed (here: removed): the next sync applies the rest whole
    report = p.sync()
    assert report["codebook_imported"] == 1 and report["codings_imported"] == 1 and report["cases_imported"] == 1


def test_writes_inside_one_transaction_read_each_other(make_project: Callable[..., Any]) -> None:
    p = make_project()
    with pytest.raises(RuntimeError):
        with p.store.transaction():
            p.codebook.add_code("Delay")
            assert [c.name for c in p.codebook.codes()] == ["Delay"]  # read back inside the transaction
            raise RuntimeError("then something fails")
    assert p.codebook.codes() == []
    with p.store.transaction():
        p.codebook.add_code("Delay")
        with pytest.raises(StoryloomError):
            p.codebook.add_code("Delay")  # refused in its savepoint: the rest of the transaction stands
    assert [c.name for c in p.codebook.codes()] == ["Delay"]
