from tenancy.selectors import memberships_of_user


def organization(request) -> dict:
    """The current organization and, lazily, the others the user may switch to."""
    user = getattr(request, "user", None)
    current = getattr(request, "organization", None)
    return {
        "organization": current,
        "actor": getattr(request, "actor", None),
        "switchable_memberships": (
            (lambda: memberships_of_user(user))
            if user is not None and user.is_authenticated
            else ()
        ),
    }
