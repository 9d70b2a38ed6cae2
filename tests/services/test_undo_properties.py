"""Undo and redo cannot corrupt: a hypothesis state machine interleaves codings, codebook operations,
transcript corrections with sync, undo and redo, and checks after every step that

* every coding that is not orphaned quotes exactly the text at its offsets, and
* a successful undo restores the exact table contents from before the undone action (a redo, those
  from after it); a refused undo or redo changes nothing at all.

Plus the exact sequences the architecture and reliability issues name as tests.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import NothingToUndoError, StoryloomError, UndoConflictError

RESEARCH_TABLES = ("codes", "codings", "memos", "participants", "participant_attributes", "variables",
                   "speakers", "vignettes", "snapshots", "suggestion_decisions", "allow_list", "transcripts")

TEXT = (
    "Interviewer: How did the programme start?\n\n"
    "Leader A: It started with a grant. The ākonga came later, after the pivot.\n\n"
    "Interviewer: And the regulator?\n\n"
    "Leader A: The approval took fourteen months. By then the employer had trained staff in-house.\n"
)
WORDS = ("really ", "honestly ", "um ", "the ", "ākonga ")


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall() for t in RESEARCH_TABLES}


def quotes_hold(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT c.id, c.start, c.\"end\", c.quote, t.text FROM codings c JOIN transcripts t ON t.id = c.transcript_id "
            "WHERE c.orphaned = 0").fetchall()
    return [f"coding {cid}: {quote!r} != {text[s:e]!r}" for cid, s, e, quote, text in rows if text[s:e] != quote]


class UndoMachine(RuleBasedStateMachine):
    """A project with one transcript; ``history`` holds (before, after) dumps of undoable actions."""

    @initialize()
    def start(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sl-undo-"))
        (self.dir / "transcripts").mkdir()
        self.file = self.dir / "transcripts" / "a.txt"
        self.file.write_text(TEXT, encoding="utf-8")
        self.project = open_project(self.dir, embedder=HashingEmbedder(), user="Tester")
        self.project.sync()
        self.db = self.dir / "project.db"
        self.done: list[tuple[dict[str, Any], dict[str, Any]]] = []  # undo stack of (before, after)
        self.undone: list[tuple[dict[str, Any], dict[str, Any]]] = []  # redo stack
        self.names = 0

    def teardown(self) -> None:
        self.project.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------------
    def _undoable(self, fn: Any) -> None:
        before = dump(self.db)
        try:
            fn()
        except StoryloomError:
            assert dump(self.db) == before, "a refused action changed the project"
            return
        after = dump(self.db)
        if after != before:
            self.done.append((before, after))
            self.undone.clear()

    def _codes(self) -> list[Any]:
        return self.project.codebook.codes()

    # -- rules -----------------------------------------------------------------------------------
    @rule(a=st.integers(0, 400), length=st.integers(1, 60))
    def code_span(self, a: int, length: int) -> None:
        text = self.project.transcripts.get("a.txt").text
        start = a % len(text)
        end = min(len(text), start + length)
        codes = self._codes()
        if codes:
            code = codes[(a + length) % len(codes)]
            self._undoable(lambda: self.project.codings.add_coding(transcript="a.txt", start=start, end=end, code=code.id))
        else:
            self.names += 1
            self._undoable(lambda: self.project.codings.add_coding_with_new_code(
                transcript="a.txt", start=start, end=end, name=f"Code {self.names}"))

    @rule(parent=st.booleans())
    def add_code(self, parent: bool) -> None:
        self.names += 1
        codes = self._codes()
        under = codes[0].id if parent and codes else None
        self._undoable(lambda: self.project.codebook.add_code(f"Code {self.names}", parent=under))

    @rule(i=st.integers(0, 20))
    def rename(self, i: int) -> None:
        codes = self._codes()
        if codes:
            self.names += 1
            self._undoable(lambda: self.project.codebook.edit_code(codes[i % len(codes)].id, name=f"Renamed {self.names}"))

    @rule(i=st.integers(0, 20), j=st.integers(0, 20))
    def merge(self, i: int, j: int) -> None:
        codes = self._codes()
        if len(codes) >= 2:
            self._undoable(lambda: self.project.codebook.merge_codes(codes[i % len(codes)].id, codes[j % len(codes)].id))

    @rule(i=st.integers(0, 20))
    def delete(self, i: int) -> None:
        codes = self._codes()
        if codes:
            self._undoable(lambda: self.project.codebook.delete_code(codes[i % len(codes)].id, discard=True))

    @rule(i=st.integers(0, 20))
    def uncode(self, i: int) -> None:
        codings = self.project.codings.codings_in("a.txt")
        if codings:
            self._undoable(lambda: self.project.codings.remove_coding(codings[i % len(codings)].id))

    @rule(pos=st.integers(0, 400), word=st.sampled_from(WORDS), cut=st.booleans())
    def correct_transcript(self, pos: int, word: str, cut: bool) -> None:
        """Correct the transcript file and sync: a barrier, and the end of the redo list."""
        text = self.file.read_text(encoding="utf-8")
        at = pos % len(text)
        new = text[:at] + text[at + 6:] if cut and len(text) > 200 else text[:at] + word + text[at:]
        self.file.write_text(new, encoding="utf-8")
        before = dump(self.db)
        self.project.sync()
        if dump(self.db)["transcripts"] != before["transcripts"]:
            self.done.clear()  # nothing before a change of text can be undone any more
            self.undone.clear()

    @rule()
    def undo(self) -> None:
        before = dump(self.db)
        try:
            self.project.undo()
        except (NothingToUndoError, UndoConflictError):
            assert dump(self.db) == before, "a refused undo changed the project"
            return
        assert self.done, "undo succeeded although nothing undoable was done since the last barrier"
        prev, after = self.done.pop()
        assert before == after
        assert dump(self.db) == prev, "undo did not restore the exact previous contents"
        self.undone.append((prev, after))

    @rule()
    def redo(self) -> None:
        before = dump(self.db)
        try:
            self.project.redo()
        except (NothingToUndoError, UndoConflictError):
            assert dump(self.db) == before, "a refused redo changed the project"
            return
        assert self.undone, "redo succeeded although nothing was waiting to be redone"
        prev, after = self.undone.pop()
        assert dump(self.db) == after, "redo did not restore the exact contents after the action"
        self.done.append((prev, after))

    @invariant()
    def quotes_match_text(self) -> None:
        if hasattr(self, "db"):
            assert quotes_hold(self.db) == []


TestUndoMachine = UndoMachine.TestCase
TestUndoMachine.settings = settings(max_examples=30, stateful_step_count=25, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])


# -- the exact sequences from the issues ------------------------------------------------------------
@pytest.fixture
def one(make_project: Any) -> Any:
    return make_project(transcripts={"a.txt": TEXT})


def _correct(project: Any, old: str, new: str) -> None:
    path = project.path / "transcripts" / "a.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    project.sync()


def test_redo_after_correction_and_sync_does_not_restore_stale_offsets(one: Any) -> None:
    """Add a coding, undo, correct the transcript and sync, redo: the coding must not come back at
    offsets into the old text (the redo list ends at any data change)."""
    text = one.transcripts.get("a.txt").text
    start = text.index("fourteen months")
    one.codings.add_coding_with_new_code(transcript="a.txt", start=start, end=start + 15, name="Delay")
    one.undo()
    _correct(one, "It started with a grant.", "It started, honestly, with a small grant.")
    with pytest.raises(NothingToUndoError):
        one.redo()
    assert quotes_hold(one.path / "project.db") == []


def test_undo_after_correction_and_sync_is_refused(one: Any) -> None:
    """Remove a coding, correct the transcript and sync, undo: refused (a change of text is a barrier),
    never a coding restored on the wrong words."""
    text = one.transcripts.get("a.txt").text
    start = text.index("fourteen months")
    coding = one.codings.add_coding_with_new_code(transcript="a.txt", start=start, end=start + 15, name="Delay")
    one.codings.remove_coding(coding.id)
    before = dump(one.path / "project.db")
    _correct(one, "It started with a grant.", "It started, honestly, with a small grant.")
    after_sync = dump(one.path / "project.db")
    assert after_sync != before
    with pytest.raises(NothingToUndoError):
        one.undo()
    assert dump(one.path / "project.db") == after_sync
    assert quotes_hold(one.path / "project.db") == []


def test_undo_refuses_a_row_changed_since(one: Any) -> None:
    """Recorder.apply checks each row against its recorded image: a row changed behind the action's
    back (here by another writer) makes undo refuse, naming what changed, and change nothing."""
    text = one.transcripts.get("a.txt").text
    start = text.index("fourteen months")
    coding = one.codings.add_coding_with_new_code(transcript="a.txt", start=start, end=start + 15, name="Delay")
    db = one.path / "project.db"
    with sqlite3.connect(db) as conn:  # another process edits the coding's memo directly
        conn.execute("UPDATE codings SET memo = 'edited elsewhere' WHERE id = ?", (coding.id,))
    before = dump(db)
    with pytest.raises(UndoConflictError) as err:
        one.undo()
    assert "coding 'fourteen months'" in str(err.value) and "memo" in str(err.value)
    assert dump(db) == before


def test_new_change_clears_redo_even_when_not_undoable(one: Any) -> None:
    """Any new data change (also an import, which cannot be undone) clears the redo list."""
    one.codebook.add_code("Delay")
    one.undo()
    (one.path / "transcripts" / "b.txt").write_text("Leader B: A new interview.\n", encoding="utf-8")
    one.sync()
    with pytest.raises(NothingToUndoError):
        one.redo()
