"""What each role may do, decided in one place.

Permissions are capabilities; each resource names the capability it needs to read and to write.
Views and API endpoints ask `actor.can(policy.write)` instead of comparing roles.
"""

from dataclasses import dataclass
from enum import StrEnum

from tenancy.enums import Role


class Permission(StrEnum):
    VIEW = "view"  # read dashboards, journeys, surveys, responses
    EXPORT = "export"  # download data
    SHARE = "share"  # schedule digests, make share links: dashboards leave the app
    BUILD = "build"  # build surveys and journeys, send invitations
    HANDLE_CASES = "handle_cases"  # work follow-up cases
    MANAGE_MEMBERS = "manage_members"
    MANAGE_KEYS = "manage_keys"
    MANAGE_ORGANIZATION = "manage_organization"  # settings, read the audit log
    MANAGE_WEBHOOKS = "manage_webhooks"  # outgoing webhook endpoints and the events feed


_VIEWER = frozenset({Permission.VIEW})
_ANALYST = _VIEWER | {Permission.EXPORT, Permission.SHARE}
_CX_MANAGER = _ANALYST | {Permission.BUILD, Permission.HANDLE_CASES}
_ADMIN = _CX_MANAGER | {
    Permission.MANAGE_MEMBERS,
    Permission.MANAGE_KEYS,
    Permission.MANAGE_ORGANIZATION,
    Permission.MANAGE_WEBHOOKS,
}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.ANALYST: _ANALYST,
    Role.CX_MANAGER: _CX_MANAGER,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _ADMIN,
}

# API keys act for integrations: they never manage people, keys or the organization itself. A
# read key reads and exports as an analyst does but changes nothing, so it neither schedules
# digests nor makes share links. A write key may register the integration's own webhook endpoints.
API_KEY_SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "read": _ANALYST - {Permission.SHARE},
    "write": _CX_MANAGER | {Permission.MANAGE_WEBHOOKS},
}


@dataclass(frozen=True)
class Policy:
    read: Permission
    write: Permission


JOURNEYS = Policy(read=Permission.VIEW, write=Permission.BUILD)
SURVEYS = Policy(read=Permission.VIEW, write=Permission.BUILD)
RESPONSES = Policy(read=Permission.VIEW, write=Permission.BUILD)
CONTACTS = Policy(read=Permission.VIEW, write=Permission.BUILD)
KIOSKS = Policy(read=Permission.VIEW, write=Permission.BUILD)
METRICS = Policy(read=Permission.VIEW, write=Permission.BUILD)
REPORTS = Policy(read=Permission.VIEW, write=Permission.EXPORT)
# Every member sees the digests; a share link's dashboard is for those who may export its data.
DIGESTS = Policy(read=Permission.VIEW, write=Permission.SHARE)
SHARE_LINKS = Policy(read=Permission.EXPORT, write=Permission.SHARE)
CASES = Policy(read=Permission.VIEW, write=Permission.HANDLE_CASES)
ALERT_RULES = Policy(read=Permission.VIEW, write=Permission.BUILD)
MEMBERS = Policy(read=Permission.VIEW, write=Permission.MANAGE_MEMBERS)
API_KEYS = Policy(read=Permission.MANAGE_KEYS, write=Permission.MANAGE_KEYS)
ORGANIZATION = Policy(read=Permission.VIEW, write=Permission.MANAGE_ORGANIZATION)
ACTIVITY = Policy(read=Permission.MANAGE_ORGANIZATION, write=Permission.MANAGE_ORGANIZATION)
# Endpoint URLs and their secrets are credentials: admins, owners and write keys see and manage
# them; read keys and the other roles do not.
WEBHOOKS = Policy(read=Permission.MANAGE_WEBHOOKS, write=Permission.MANAGE_WEBHOOKS)
# The events feed carries what the webhooks would: readable by whoever may export data.
EVENTS = Policy(read=Permission.EXPORT, write=Permission.MANAGE_WEBHOOKS)
