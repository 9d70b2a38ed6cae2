"""Disclosure check before export: could a reader identify someone from what would be printed?

spaCy's named-entity recogniser (the full pipeline, loaded once per process) reads the title, the
narrative paragraphs and every quote as it would print, and flags people, organisations and places
(``PERSON``, ``ORG``, ``GPE``, ``LOC``, ``FAC``; ``NORP`` on request; only entities with a capital
letter, since names are written with one) that are not on the project's
allow-list. The allow-list is, case-insensitively: the pseudonyms, the participants' attribute
values, the code and theme names, and every term a researcher accepted (the ``allow_list`` table,
e.g. te reo Māori words the model takes for names). When attributes are printed with quotes, a
combination of attribute values that only one participant has (k-anonymity of 1) is flagged too.

A flag is resolved by editing the quote (a bracketed substitution: ``[a colleague]``) or accepted
with :meth:`DisclosureMixin.accept_disclosure_term` (one audit event).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from .errors import ConflictError, NotFoundError

DEFAULT_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC", "FAC")
UNIQUE_ATTRIBUTES = "UNIQUE_ATTRIBUTES"
_NER_ONLY = ("parser", "tagger", "attribute_ruler", "lemmatizer", "senter")


def normalise_term(text: str) -> str:
    """How terms compare: lower case, single spaces, no leading 'the', no possessive, no edge punctuation."""
    text = re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()
    text = re.sub(r"^the ", "", text)
    text = re.sub(r"'s$", "", text)
    return text.strip(" .,;:!?\"'()[]")


def entities(texts: Sequence[str], *, labels: Iterable[str] = DEFAULT_LABELS) -> list[list[tuple[str, str]]]:
    """Named entities ``(text, label)`` of each text, restricted to ``labels``."""
    from .segment import load_nlp

    nlp = load_nlp(full=True)
    wanted = set(labels)
    disable = [p for p in _NER_ONLY if p in nlp.pipe_names]
    out = []
    for doc in nlp.pipe(list(texts), disable=disable, batch_size=32):
        out.append([(e.text.strip(), e.label_) for e in doc.ents
                    if e.label_ in wanted and any(ch.isupper() for ch in e.text)])
    return out


def is_allowed(term: str, allowed: set[str]) -> bool:
    """A term is allowed when it is an allowed term, or a run of whole words of one."""
    norm = normalise_term(term)
    if not norm or norm in allowed:
        return True
    return any(f" {norm} " in f" {a} " for a in allowed)


class DisclosureMixin:
    """Project methods: the disclosure check and its allow-list."""

    def allow_list(self: Any) -> list[dict[str, str]]:
        """Terms researchers accepted as not identifying: term, label, accepted_by, at."""
        a = self.t.allow_list
        with self.store.read() as conn:
            rows = conn.execute(sa.select(a).order_by(a.c.term)).all()
        return [{"term": r.term, "label": r.label, "accepted_by": r.accepted_by, "at": r.at} for r in rows]

    def _allowed_terms(self: Any) -> set[str]:
        terms = {r["term"] for r in self.allow_list()}
        for p in self.participants():
            terms.add(p.pseudonym)
            terms.update(v for v in p.attributes.values() if v)
        terms.update(c.name for c in self.codes())
        return {normalise_term(t) for t in terms} - {""}

    def accept_disclosure_term(self: Any, term: str, *, label: str = "", note: str = "") -> dict[str, str]:
        """Remember that ``term`` is not identifying (case-insensitive), so the check stops flagging it."""
        term = re.sub(r"\s+", " ", term).strip()
        if not normalise_term(term):
            raise ConflictError("Say which term to accept, e.g. 'Kia ora' or 'academic board'.")
        same = [r for r in self.allow_list() if normalise_term(r["term"]) == normalise_term(term)]
        if same:
            return same[0]  # already accepted: nothing to record
        with self._action("disclosure.accept", note=note) as act:
            at = self._now()
            act.rec.insert("allow_list", term=term, label=label, accepted_by=act.who, at=at)
            act.target, act.after = f"allow_list:{term}", {"term": term, "label": label}
            act.summary = f"Accepted '{term}'" + (f" ({label})" if label else "") + " as not identifying"
        return {"term": term, "label": label, "accepted_by": self.user, "at": at}

    def remove_disclosure_term(self: Any, term: str, *, note: str = "") -> None:
        """Take a term off the allow-list (the check flags it again)."""
        a = self.t.allow_list
        with self._action("disclosure.remove", note=note) as act:
            rows = [r for r in act.conn.execute(sa.select(a.c.id, a.c.term)).all()
                    if normalise_term(r.term) == normalise_term(term)]
            if not rows:
                accepted = ", ".join(r["term"] for r in self.allow_list()) or "none"
                raise NotFoundError(f"'{term}' is not on the allow-list; accepted terms: {accepted}.")
            act.rec.delete("allow_list", rows[0].id)
            act.target, act.before = f"allow_list:{rows[0].term}", {"term": rows[0].term}
            act.summary = f"Took '{rows[0].term}' off the allow-list"

    def check_disclosure(
        self: Any, vignette_id: int, *, attributes: Sequence[str] = (), labels: Iterable[str] = DEFAULT_LABELS,
    ) -> list[dict[str, Any]]:
        """Possible identifying details in what would be exported: ``{text, label, quote, item}`` each
        (``quote`` names the quote by its first words, or the title / a narrative paragraph)."""
        from .export.document import PLACEHOLDER
        from .quotes import quote_label

        v = self.vignette(vignette_id)
        places: list[tuple[int | None, str]] = [(None, "title")]
        texts = [v.title]
        for i, item in enumerate(v.items):
            if item.kind == "narrative" and item.text.lstrip().startswith(PLACEHOLDER):
                continue  # Storyloom's own placeholder words, not data
            texts.append(item.text)
            places.append((i, quote_label(item.text) if item.kind == "quote" else f"narrative paragraph {i + 1}"))
        allowed = self._allowed_terms()
        flags: list[dict[str, Any]] = []
        seen: set[tuple[str, str, int | None]] = set()
        for (index, where), found in zip(places, entities(texts, labels=labels)):
            for text, label in found:
                key = (normalise_term(text), label, index)
                if key in seen or is_allowed(text, allowed):
                    continue
                seen.add(key)
                flags.append({"text": text, "label": label, "quote": where, "item": index})
        flags += self._unique_attribute_flags(v, attributes, allowed)
        return flags

    def _unique_attribute_flags(self: Any, v: Any, attributes: Sequence[str], allowed: set[str]) -> list[dict[str, Any]]:
        if not attributes:
            return []
        from .quotes import quote_label

        people = {p.pseudonym: p.attributes for p in self.participants()}
        unknown = [a for a in attributes if not any(a in attrs for attrs in people.values())]
        if unknown:
            names = sorted({k for attrs in people.values() for k in attrs})
            raise NotFoundError(f"No participant attribute {', '.join(unknown)}; attributes: {', '.join(names) or 'none'}.")
        combos: dict[tuple[str, ...], int] = {}
        for attrs in people.values():
            combo = tuple(attrs.get(a, "") for a in attributes)
            combos[combo] = combos.get(combo, 0) + 1
        flags, done = [], set()
        for i, item in enumerate(v.items):
            who = getattr(item, "participant", None)
            if item.kind != "quote" or who not in people or who in done:
                continue
            done.add(who)
            combo = tuple(people[who].get(a, "") for a in attributes)
            printed = ", ".join(x for x in combo if x)
            if combos[combo] == 1 and printed and normalise_term(printed) not in allowed:
                flags.append({"text": printed, "label": UNIQUE_ATTRIBUTES, "quote": quote_label(item.text), "item": i,
                              "detail": f"only {who} has {printed}: printing it identifies them (k-anonymity of 1)"})
        return flags
