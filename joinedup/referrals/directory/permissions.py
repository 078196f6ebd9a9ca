"""Who may change the service directory."""

from joinedup.people.models import Role


def can_edit_directory(user, service) -> bool:
    """Organisation admins edit the directory entries of their own organisation's services."""
    return (
        user.is_authenticated
        and user.memberships.filter(
            role=Role.ORG_ADMIN, organisation_id=service.organisation_id
        ).exists()
    )
