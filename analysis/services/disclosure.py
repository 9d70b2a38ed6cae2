"""The disclosure check and its allow-list (``project.disclosure``).

Before a vignette is exported, spaCy's named-entity recogniser reads what would be printed and flags
people, organisations and places that are not on the project's allow-list (see :mod:`analysis.domain.disclosure`
for the rules). The allow-list is, case-insensitively: the pseudonyms, the participants' attribute
values, the code and theme names, every term a researcher accepted with :meth:`DisclosureService.accept_term`
(one audit event each), and the built-in list of words that name no one (months, weekdays, COVID-19...:
:data:`analysis.domain.disclosure.BUILT_IN_ALLOWED`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from analysis.domain.disclosure import BUILT_IN_ALLOWED, DEFAULT_LABELS, entities, is_allowed, normalise_term, unique_attribute_flags
from analysis.errors import Errors, NotFoundError, ValidationError
from analysis.export.document import PLACEHOLDER
from analysis.domain.quotes import quote_label
from analysis.store import disclosure as store
from analysis.services.context import Context
from analysis.services.results import AcceptedTerm, DisclosureFlag

if TYPE_CHECKING:
    from analysis.domain.vignettes import Item
    from analysis.services.codebook import CodebookService
    from analysis.services.participants import ParticipantService
    from analysis.services.vignettes import VignetteService

#: A place in what would be published: (the item's index or None, where it is in words, its text as printed).
Place = tuple[int | None, str, str]


class DisclosureService:
    """The disclosure check of a vignette (or of any text about to be published: :meth:`flags`), and the
    terms researchers accepted as not identifying."""

    def __init__(self, ctx: Context, participants: ParticipantService, codebook: CodebookService,
                 vignettes: VignetteService) -> None:
        self.ctx = ctx
        self.participants = participants
        self.codebook = codebook
        self.vignettes = vignettes

    def allow_list(self) -> list[AcceptedTerm]:
        """Terms researchers accepted as not identifying, by term: term, label, accepted_by, at."""
        with self.ctx.store.read() as conn:
            rows = store.allow_list_entries(conn)
        return [AcceptedTerm(r["term"], r["label"], r["accepted_by"], r["at"]) for r in rows]

    def allowed_terms(self) -> set[str]:
        """The terms the disclosure check never flags, normalised: the allow-list, every participant's pseudonym
        and attribute values, the codebook's code names, and the built-in
        list of common non-identifying words (months, weekdays, COVID-19...)."""
        terms = {r.term for r in self.allow_list()} | set(BUILT_IN_ALLOWED)
        for p in self.participants.list():
            terms.add(p.pseudonym)
            terms.update(v for v in p.attributes.values() if v)
        terms.update(c.name for c in self.codebook.codes())
        return {normalise_term(t) for t in terms} - {""}

    def accept_term(self, term: str, *, label: str = "", note: str = "") -> AcceptedTerm:
        """Remember that ``term`` is not identifying (case-insensitive), so the check stops flagging it; the
        term as accepted (an earlier acceptance of the same term, when there is one: nothing is recorded)."""
        term = re.sub(r"\s+", " ", term).strip()
        if not normalise_term(term):
            raise ValidationError(Errors.E2110)
        same = [r for r in self.allow_list() if normalise_term(r.term) == normalise_term(term)]
        if same:
            return same[0]  # already accepted: nothing to record
        with self.ctx.action("disclosure.accept", note=note) as act:
            at = self.ctx.now()
            act.rec.insert("allow_list", term=term, label=label, accepted_by=act.who, at=at)
            act.target, act.after = f"allow_list:{term}", {"term": term, "label": label}
            act.summary = f"Accepted '{term}'" + (f" ({label})" if label else "") + " as not identifying"
        return AcceptedTerm(term, label, self.ctx.user, at)

    def remove_term(self, term: str, *, note: str = "") -> None:
        """Take a term off the allow-list (the check flags it again)."""
        with self.ctx.action("disclosure.remove", note=note) as act:
            rows = [(i, t) for i, t in store.allow_list_ids(act.conn) if normalise_term(t) == normalise_term(term)]
            if not rows:
                accepted = ", ".join(r.term for r in self.allow_list()) or "none"
                raise NotFoundError(Errors.E2005, term=term, accepted=accepted)
            row_id, found = rows[0]
            act.rec.delete("allow_list", row_id)
            act.target, act.before = f"allow_list:{found}", {"term": found}
            act.summary = f"Took '{found}' off the allow-list"

    def check(
        self, vignette_id: int, *, attributes: Sequence[str] = (), labels: Iterable[str] = DEFAULT_LABELS,
    ) -> list[DisclosureFlag]:
        """Possible identifying details in what would be exported (``quote`` names the quote by its first
        words, or the title / a narrative paragraph)."""
        v = self.vignettes.get(vignette_id)
        places: list[Place] = [(None, "title", v.title)]
        for i, item in enumerate(v.items):
            if item.kind == "narrative" and item.text.lstrip().startswith(PLACEHOLDER):
                continue  # Storyloom's own placeholder words, not data
            places.append((i, quote_label(item.text) if item.kind == "quote" else f"narrative paragraph {i + 1}", item.text))
        return self.flags(places, items=v.items, attributes=attributes, labels=labels)

    def flags(
        self, places: Sequence[Place], *, items: Sequence[Item] = (), attributes: Sequence[str] = (),
        labels: Iterable[str] = DEFAULT_LABELS,
    ) -> list[DisclosureFlag]:
        """The check over any text about to be published (a vignette's, a chapter's): ``places`` are
        ``(item index or None, where, text as printed)``; with ``attributes``, the quoted participants of
        ``items`` whose combination of them no one else has are flagged too (with a ``detail``). Each flag's
        ``quote`` names the place."""
        allowed = self.allowed_terms()
        flags: list[DisclosureFlag] = []
        seen: set[tuple[str, str, int | None, str]] = set()
        for (index, where, _), found in zip(places, entities([text for *_, text in places], labels=labels)):
            for text, label in found:
                key = (normalise_term(text), label, index, where)
                if key in seen or is_allowed(text, allowed):
                    continue
                seen.add(key)
                flags.append(DisclosureFlag(text, label, where, index))
        if attributes:
            people = {p.pseudonym: p.attributes for p in self.participants.list()}
            flags += [DisclosureFlag(str(f["text"]), str(f["label"]), str(f["quote"]), f["item"], str(f["detail"]))
                      for f in unique_attribute_flags(items, attributes, people, allowed)]
        return flags
