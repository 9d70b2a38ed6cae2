"""Progress that tells the truth: what an import or sync reports while it works.

An import or ``sync`` goes through four stages, in order: ``parse`` (read and check every file),
``segment`` (split turns into sentences), ``store`` (one transaction per transcript: readable and
codable from here) and ``embed`` (the sentences not embedded before: the slow one, in batches written as
they finish; skipped by an import that does not wait, which leaves it to a background worker). Each stage reports :class:`Step` values, counting from
``done=0`` to ``done=total`` in its own unit (files, transcripts, sentences); a stage with nothing to do
reports one step with ``total=0``. A front end turns them into bars: the CLI one tqdm bar per stage on
a terminal (quiet when piped and with ``--json``), the Project page one ``st.progress`` per stage.
:class:`Rate` gives the rate and time left that both show for the embedding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

STAGES: tuple[str, ...] = ("parse", "segment", "store", "embed")
STAGE_LABELS: dict[str, str] = {"parse": "Reading files", "segment": "Splitting into sentences",
                                "embed": "Embedding sentences", "store": "Saving transcripts",
                                # transcription (analysis/services/transcription.py), before the import's stages
                                "prepare": "Preparing the speech model", "recognise": "Recognising speech",
                                "speakers": "Telling speakers apart"}


@dataclass(frozen=True)
class Step:
    """Where one stage stands: ``done`` of ``total`` ``unit`` (``item``: the file being worked on, or a note
    such as how many sentences were embedded before and are reused)."""

    stage: str
    done: int
    total: int
    unit: str
    item: str = ""

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(max(self.done / self.total, 0.0), 1.0)

    @property
    def finished(self) -> bool:
        return self.done >= self.total


class Progress(Protocol):
    """A progress callback: called with each :class:`Step` of an import or sync."""

    def __call__(self, step: Step, /) -> None: ...


def no_progress(step: Step, /) -> None:
    """The callback of a caller that wants no progress."""
    return None


@dataclass
class Rate:
    """Items per second and the time left of one stage. The clock starts at the stage's first step with
    something done, so a start-up cost (the language model loading during the first batch) does not
    make the rate look slower than it is. ``clock`` is ``time.monotonic``; pass another for tests."""

    clock: Callable[[], float] = field(default_factory=lambda: time.monotonic)
    _start: float | None = None
    _first: int = 0

    def update(self, step: Step) -> tuple[float | None, float | None]:
        """(items per second, seconds left), None until two steps with work done can be compared."""
        now = float(self.clock())
        if self._start is None or step.done < self._first:
            if step.done > 0:
                self._start, self._first = now, step.done
            return None, None
        elapsed, done = now - self._start, step.done - self._first
        if elapsed <= 0 or done <= 0:
            return None, None
        rate = done / elapsed
        return rate, max(step.total - step.done, 0) / rate


def clock_text(seconds: float) -> str:
    """``1:05`` for 65 seconds, ``12 s`` under a minute."""
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60}:{seconds % 60:02d}"


def describe(step: Step, rate: float | None = None, left: float | None = None) -> str:
    """One line for a stage, e.g. ``Embedding sentences: 1,024 of 3,300 · 410 sentences/s · about 6 s left``."""
    label = STAGE_LABELS.get(step.stage, step.stage)
    if step.total <= 0:
        return f"{label}: nothing to do" + (f" ({step.item})" if step.item else "")
    text = f"{label}: {step.done:,} of {step.total:,} {step.unit}"
    if rate is not None and not step.finished:
        text += f" · {rate:,.0f} {step.unit}/s"
        if left is not None:
            text += f" · about {clock_text(left)} left"
    if step.item:
        text += f" · {step.item}"
    return text
