"""Researchers' roles in a team project (issue 14): who may do what, decided in one place.

A researcher registered in a project has one of three roles:

* ``lead``: everything, and alone may merge, split or delete codes, delete transcripts, merge another
  copy of the project, and manage the team (add researchers, change roles);
* ``coder``: codes, writes memos, vignettes..., undoes their own work;
* ``reader``: reads, searches and exports; changes nothing.

A project with no researcher registered has no roles: whoever opens it may do everything (one
researcher on their own machine, as before). Once researchers are registered, a change by a name that
is not among them is refused too, so that every change is accountable to a member of the team.

This is accountability inside a trusted team, not security: a role is checked by Storyloom, not by the
database, and anyone who can write to the database can set any name. Access itself is the database
server's business (its logins and grants), or the file system's for a SQLite project.

The check runs in the action runner (:meth:`analysis.services.context.Context.action`) and in undo,
so no service can forget it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from analysis.domain.audit import check_kind
from analysis.errors import Errors, RoleError, ValidationError

ROLES = ("lead", "coder", "reader")
# Kinds only a lead may run. Storyloom has no "delete a transcript" action (a file gone from
# transcripts/ is reported by sync, its codings kept); a kind that deletes transcripts belongs here.
LEAD_ONLY = frozenset({"code.merge", "code.split", "code.delete", "researcher.add", "researcher.role", "project.merge"})


def name_key(name: str) -> str:
    """Names compare as the schema's uniqueness keys do: NFC, stripped, case-folded."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def check_role(role: str) -> str:
    """``role`` as stored (lower case), or ValidationError naming the roles."""
    clean = role.strip().lower()
    if clean not in ROLES:
        raise ValidationError(Errors.E4304, role=role, allowed=", ".join(ROLES))
    return clean


def may(kind: str, role: str | None) -> bool:
    """Whether a researcher of ``role`` may run an action of ``kind`` (``None``: a project without roles)."""
    if role is None:
        return True
    k = check_kind(kind)
    if not k.data:  # a use of the tool (a search, an export): reading
        return True
    if role == "reader":
        return False
    return role == "lead" or kind not in LEAD_ONLY


def check(kind: str, who: str, team: Sequence[tuple[str, str]] | None) -> None:
    """Refuse (RoleError, with what to do) an action of ``kind`` by ``who`` when the project's researchers
    (``team``: ``(name, role)`` pairs; empty or None for a project without roles) do not allow it."""
    if not team:
        return
    if not check_kind(kind).data:
        return
    roles = {name_key(n): r for n, r in team}
    leads = ", ".join(n for n, r in team if r == "lead") or "none"
    role = roles.get(name_key(who))
    if role is None:
        raise RoleError(Errors.E4303, who=who, names=", ".join(n for n, _ in team))
    if may(kind, role):
        return
    label = check_kind(kind).label
    if role == "reader":
        raise RoleError(Errors.E4301, who=who, label=label, leads=leads)
    raise RoleError(Errors.E4302, who=who, label=label, leads=leads, role=role)
