"""The action runner (analysis/services/context.py: Context.action) with an action started inside another:
it joins the running one (one transaction, one audit event, one undo step), or, where it cannot (another
connection to the same database, another researcher), fails at once with an internal error instead of
waiting five seconds on its own write lock and calling the project "locked"."""

from __future__ import annotations

import time
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import StoryloomError


def test_a_nested_action_joins_the_running_one(make_project: Any) -> None:
    project = make_project()
    before = len(project.audit_trail())
    with project.ctx.action("code.create") as act:
        project.codebook.add_code("Hope")  # its own ctx.action: joins this one
        project.codebook.add_code("Doubt")
        act.summary = "Created two codes"
    events = project.audit_trail()[before:]
    assert [(e.action, e.summary) for e in events] == [("code.create", "Created two codes")]
    assert {c.name for c in project.codebook.codes()} == {"Hope", "Doubt"}
    project.undo()  # one undo step takes back both
    assert project.codebook.codes() == []


def test_a_joined_action_that_fails_rolls_back_the_running_one(make_project: Any) -> None:
    project = make_project()
    project.codebook.add_code("Hope")
    before = len(project.audit_trail())
    with pytest.raises(StoryloomError), project.ctx.action("code.create"):
        project.codebook.add_code("Doubt")
        project.codebook.add_code("hope")  # a sibling name taken: the whole action is refused
    assert [c.name for c in project.codebook.codes()] == ["Hope"] and len(project.audit_trail()) == before


def test_the_running_actions_summary_comes_from_the_joined_ones_when_it_has_none(make_project: Any) -> None:
    project = make_project()
    with project.ctx.action("code.create"):
        project.codebook.add_code("Hope")
    assert project.audit_trail()[-1].summary == project.audit_trail(action="code.create")[-1].summary
    assert "Hope" in project.audit_trail()[-1].summary


def test_an_action_on_another_connection_to_the_same_project_fails_at_once(make_project: Any) -> None:
    project = make_project()
    other = open_project(project.path, embedder=HashingEmbedder())
    try:
        started = time.perf_counter()
        with pytest.raises(StoryloomError) as refused, project.ctx.action("code.create"):
            other.codebook.add_code("Hope")
        assert time.perf_counter() - started < 2  # not the five seconds of the busy timeout
        assert refused.value.code == "SL9003" and "another connection to the same project" in str(refused.value)
        assert "locked" not in str(refused.value)
    finally:
        other.close()
    assert project.codebook.codes() == []


def test_an_action_as_another_researcher_inside_a_running_one_fails_at_once(make_project: Any) -> None:
    project = make_project()
    with pytest.raises(StoryloomError) as refused, project.ctx.action("code.create", who="Aroha"):
        project.codebook.add_code("Hope")  # recorded as the project user, not Aroha
    assert refused.value.code == "SL9003" and "Aroha" in str(refused.value)
    assert project.codebook.codes() == []


def test_an_action_on_another_project_inside_a_running_one_is_its_own(make_project: Any) -> None:
    first, second = make_project("first"), make_project("second")
    with first.ctx.action("code.create") as act:
        first.codebook.add_code("Hope")
        second.codebook.add_code("Elsewhere")
        act.summary = "Created a code"
    assert [c.name for c in second.codebook.codes()] == ["Elsewhere"]
    assert second.audit_trail()[-1].action == "code.create"
    second.undo()
    assert second.codebook.codes() == [] and [c.name for c in first.codebook.codes()] == ["Hope"]
