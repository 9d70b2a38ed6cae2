"""The first-run guide (``project.guide``): a short "Start here" that says what each page is for, in
the order of the six phases of reflexive thematic analysis (Braun & Clarke), shown when a project is
opened until a researcher hides it. Hiding it is remembered in the project (the ``meta`` table, not an
undoable action: it changes no data), so every researcher of a shared project sees it until one hides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.domain.model import PHASES
from analysis.store import meta
from analysis.services.context import Context

_KEY = "guide.dismissed"


@dataclass(frozen=True)
class GuideStep:
    """One line of the guide: the phase (or ``""`` for getting the data in), the pages, what to do there."""

    phase: str
    pages: tuple[str, ...]
    what: str


#: The guide, in the order of the six phases (page titles as app.py names them).
STEPS: tuple[GuideStep, ...] = (
    GuideStep("", ("Project",), "Bring your transcripts in (upload or sync the transcripts/ folder) and say who "
                                "each speaker is."),
    GuideStep(PHASES[0], ("Read & code", "Journal & memos"), "Read every transcript through; note first "
                                                             "impressions in a familiarisation memo and your journal."),
    GuideStep(PHASES[1], ("Read & code", "Assist (suggestions)"), "Select words and code them; search for "
                                                                  "similar passages (suggestions only: you decide)."),
    GuideStep(PHASES[2], ("Codebook",), "Gather codes under candidate themes; write what each one means."),
    GuideStep(PHASES[3], ("Themes", "Participants", "Cases"), "Check each theme against its quotes, across "
                                                              "participants and cases; merge, split or drop."),
    GuideStep(PHASES[4], ("Codebook", "Journal & memos"), "Define and name each theme; the history of a theme "
                                                          "shows how it came to be."),
    GuideStep(PHASES[5], ("Vignettes", "Story"), "Tell the story with quotes and your own words; export it for "
                                                 "the journal, checked for identifying details."),
)


class GuideService:
    """Whether the first-run guide is shown, and hiding or showing it again."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def steps(self) -> tuple[GuideStep, ...]:
        return STEPS

    def shown(self) -> bool:
        """True until a researcher hides the guide in this project."""
        with self.ctx.store.read() as conn:
            return meta.get(conn, _KEY, "") == ""

    def dismiss(self) -> None:
        """Hide the guide in this project (remembered; :meth:`show_again` brings it back)."""
        with self.ctx.store.write() as conn:
            meta.set(conn, _KEY, f"{self.ctx.actor} {self.ctx.now()}")

    def show_again(self) -> None:
        with self.ctx.store.write() as conn:
            meta.set(conn, _KEY, "")
