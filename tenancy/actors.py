from dataclasses import dataclass, field
from typing import Any

from tenancy.policies import API_KEY_SCOPE_PERMISSIONS, ROLE_PERMISSIONS, Permission


@dataclass(frozen=True)
class Actor:
    """Who is acting in an organization: a member (with a role) or an API key (with a scope)."""

    organization: Any
    label: str
    permissions: frozenset[Permission]
    user: Any = None
    api_key: Any = None
    role: str = ""
    extra: dict = field(default_factory=dict)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @classmethod
    def for_membership(cls, membership) -> "Actor":
        return cls(
            organization=membership.organization,
            label=membership.user.email,
            permissions=ROLE_PERMISSIONS[membership.role],
            user=membership.user,
            role=membership.role,
        )

    @classmethod
    def for_api_key(cls, api_key) -> "Actor":
        return cls(
            organization=api_key.organization,
            label=f"API key {api_key.name} ({api_key.prefix})",
            permissions=API_KEY_SCOPE_PERMISSIONS[api_key.scope],
            api_key=api_key,
        )

    @classmethod
    def system(cls, organization) -> "Actor":
        return cls(organization=organization, label="system", permissions=frozenset(Permission))
