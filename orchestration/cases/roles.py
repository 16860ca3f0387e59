"""Roles and permissions from ``orchestration/config/roles.yml``, and the pseudonyms reviewers see."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CasePermissionError

ROLES_FILE = Path(__file__).resolve().parent.parent / "config" / "roles.yml"

PERMISSIONS: frozenset[str] = frozenset(
    {
        "view_queue",
        "view_case",
        "view_history",
        "view_audit_trail",
        "view_thresholds",
        "see_employee_ids",
        "assign_self",
        "assign_others",
        "act_on_any_case",
        "request_explanation",
        "record_explanation",
        "decide",
        "close",
        "comment",
        "reopen",
        "escalate",
        "propose_threshold",
        "apply_threshold",
        "open_cases",
    }
)

PIPELINE_ACTOR = "cardwatch-pipeline"
PIPELINE_ROLE = "pipeline"


@dataclass(frozen=True)
class Actor:
    """A person (or the pipeline) acting in one role."""

    name: str
    role: str


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    permissions: frozenset[str]

    @property
    def sees_employee_ids(self) -> bool:
        return "see_employee_ids" in self.permissions


@dataclass(frozen=True)
class RoleBook:
    """The roles file, parsed and checked once."""

    roles: Mapping[str, Role]
    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    employee_prefix: str = "EMP-"
    card_prefix: str = "CARD-"
    pseudonym_length: int = 8

    @classmethod
    def load(cls, path: str | Path | None = None) -> RoleBook:
        source = Path(path) if path else ROLES_FILE
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read roles file {source}: {exc}".splitlines()[0]) from exc
        return cls.from_dict(data, str(source))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "roles") -> RoleBook:
        raw_roles: Mapping[str, Any] = data.get("roles") or {}
        if not raw_roles:
            raise ValueError(f"{source}: no roles defined")

        def permissions_of(name: str, seen: tuple[str, ...] = ()) -> set[str]:
            if name in seen:
                raise ValueError(f"{source}: role {name} inherits from itself")
            spec = raw_roles.get(name)
            if spec is None:
                raise ValueError(f"{source}: unknown role {name!r}")
            granted = set(spec.get("permissions") or [])
            unknown = granted - PERMISSIONS
            if unknown:
                raise ValueError(
                    f"{source}: role {name} has unknown permission(s) {', '.join(sorted(unknown))}"
                )
            if spec.get("sees_employee_ids"):
                granted.add("see_employee_ids")
            parent = spec.get("inherits")
            if parent:
                granted |= permissions_of(parent, (*seen, name))
            return granted

        roles = {
            name: Role(name, str(spec.get("label") or name), frozenset(permissions_of(name)))
            for name, spec in raw_roles.items()
        }
        users: dict[str, tuple[str, ...]] = {}
        for user, granted in (data.get("users") or {}).items():
            names = (granted,) if isinstance(granted, str) else tuple(granted or ())
            for role in names:
                if role not in roles:
                    raise ValueError(f"{source}: user {user} has unknown role {role!r}")
            users[str(user)] = names
        pseudonym = data.get("pseudonym") or {}
        return cls(
            roles=roles,
            users=users,
            employee_prefix=str(pseudonym.get("employee_prefix", "EMP-")),
            card_prefix=str(pseudonym.get("card_prefix", "CARD-")),
            pseudonym_length=int(pseudonym.get("length", 8)),
        )

    def actor(self, name: str, role: str | None = None) -> Actor:
        """Check that `name` may act as `role` (the first listed role when omitted)."""
        if not name or not name.strip():
            raise CasePermissionError("an actor needs a name")
        if self.users:
            if name not in self.users:
                raise CasePermissionError(f"{name} is not listed in the roles file")
            allowed = self.users[name]
            role = role or allowed[0]
            if role not in allowed:
                raise CasePermissionError(f"{name} may not act as {role} (allowed: {', '.join(allowed)})")
        if role is None:
            raise CasePermissionError(f"no role given for {name}")
        if role not in self.roles:
            raise CasePermissionError(f"unknown role {role!r} (known: {', '.join(self.roles)})")
        return Actor(name, role)

    def role(self, actor: Actor) -> Role:
        found = self.roles.get(actor.role)
        if found is None:
            raise CasePermissionError(f"unknown role {actor.role!r} (known: {', '.join(self.roles)})")
        return found

    def can(self, actor: Actor, permission: str) -> bool:
        return permission in self.role(actor).permissions

    def require(self, actor: Actor, permission: str, what: str) -> None:
        """Raise a one-line CasePermissionError unless the actor's role has the permission."""
        if not self.can(actor, permission):
            raise CasePermissionError(f"{actor.name} ({actor.role}) may not {what}")


class Pseudonymiser:
    """Stable keyed hashes so a reviewer can follow one cardholder without learning who it is."""

    def __init__(self, key: bytes, book: RoleBook) -> None:
        self._key = key
        self._book = book

    def _digest(self, kind: str, value: str) -> str:
        mac = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return mac[: self._book.pseudonym_length]

    def employee(self, employee_id: str) -> str:
        return f"{self._book.employee_prefix}{self._digest('employee', employee_id)}"

    def card(self, card_id: str) -> str:
        return f"{self._book.card_prefix}{self._digest('card', card_id)}"

    def mask(self, value: Any) -> Any:
        """Replace employee_id / card_id anywhere inside a dict or list."""
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key == "employee_id" and item is not None:
                    out[key] = self.employee(str(item))
                elif key == "card_id" and item is not None:
                    out[key] = self.card(str(item))
                else:
                    out[key] = self.mask(item)
            return out
        if isinstance(value, list):
            return [self.mask(item) for item in value]
        return value
