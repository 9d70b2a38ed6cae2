"""``project.researchers``: the members of a team project and their roles (issue 14).

Registering researchers turns roles on (see :mod:`analysis.domain.roles`: lead, coder, reader, checked by the
action runner for every change); a project with none registered behaves as a single researcher's. A
researcher's GUID is the one their user record has (every researcher who acted has one), so exports
name the same person under the same GUID.
"""

from __future__ import annotations

from typing import Any

from analysis.errors import ConflictError, Errors, NotFoundError, ValidationError
from analysis.domain.names import check_name
from analysis.domain.roles import ROLES, check_role
from analysis.store import audit as audit_store, researchers as store
from analysis.services.context import Context, new_guid
from analysis.services.results import Researcher


def _row(r: Any) -> Researcher:
    return Researcher(str(r.name), str(r.guid), str(r.role), str(r.added_by), str(r.created_at))


class ResearcherService:
    """Add researchers, change their roles, list them (``project.researchers``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def list(self) -> list[Researcher]:
        """Every registered researcher, in the order they were added."""
        with self.ctx.store.read() as conn:
            return [_row(r) for r in store.rows(conn)]

    def role_of(self, name: str | None = None) -> str | None:
        """The role of ``name`` (default: the acting researcher); None when the project has no roles
        or the name is not registered."""
        with self.ctx.store.read() as conn:
            row = store.by_name(conn, name or self.ctx.actor)
        return None if row is None else str(row.role)

    def add(self, name: str, *, role: str = "coder") -> Researcher:
        """Register ``name`` with ``role`` (lead | coder | reader). The first researcher must be a lead;
        after that only a lead adds researchers. Undoable."""
        clean = " ".join(check_name(name, what="researcher").split())
        if not clean:
            raise ValidationError(Errors.E4309)
        role = check_role(role)
        with self.ctx.action("researcher.add") as act:
            team = store.team(act.conn)
            if not team and role != "lead":
                raise ValidationError(Errors.E4306, name=clean, role=role)
            existing = store.by_name(act.conn, clean)
            if existing is not None:
                raise ConflictError(Errors.E4305, name=existing.name, role=existing.role)
            guid = store.user_guid(act.conn, clean) or new_guid()
            audit_store.ensure_user(act.conn, clean, guid)
            act.rec.insert("researchers", guid=guid, name=clean, role=role, added_by=self.ctx.actor,
                           created_at=self.ctx.now())
            act.target, act.after = f"researcher:{guid}", {"name": clean, "role": role}
            act.summary = f"Added {clean} to the team as {role}"
        return self._get(clean)

    def set_role(self, name: str, role: str) -> Researcher:
        """Change a researcher's role (a lead's action; the last lead cannot step down). Undoable."""
        role = check_role(role)
        with self.ctx.action("researcher.role") as act:
            team = store.team(act.conn)
            row = store.by_name(act.conn, name)
            if row is None:
                raise NotFoundError(Errors.E4308, name=name, names=", ".join(n for n, _ in team) or "none")
            if row.role == "lead" and role != "lead" and sum(r == "lead" for _, r in team) == 1:
                raise ConflictError(Errors.E4307, name=row.name)
            act.rec.update("researchers", int(row.id), role=role)
            act.target, act.before, act.after = f"researcher:{row.guid}", {"role": row.role}, {"name": row.name, "role": role}
            act.summary = f"Made {row.name} a {role} (was {row.role})"
        return self._get(row.name)

    def _get(self, name: str) -> Researcher:
        with self.ctx.store.read() as conn:
            row = store.by_name(conn, name)
        if row is None:
            raise NotFoundError(Errors.E4308, name=name, names=", ".join(r.name for r in self.list()) or "none")
        return _row(row)


__all__ = ["ROLES", "ResearcherService"]
