"""Which scopes a system client holds: the token endpoint grants only those it was
registered with, where `system/*.read` counts as every `system/<Type>.read`."""

from oauth2_provider.scopes import SettingsScopes

from joinedup.fhir.models import ClientRegistration


def covers(scopes, resource_type: str, mode: str) -> bool:
    """Whether `scopes` allow `mode` ("read" or "write") of `resource_type`."""
    return f"system/{resource_type}.{mode}" in scopes or f"system/*.{mode}" in scopes


def grants(registered, scope: str) -> bool:
    """Whether a client registered with `registered` may hold `scope`."""
    if scope in registered:
        return True
    context, _, rest = scope.partition("/")
    resource_type, _, mode = rest.rpartition(".")
    return context == "system" and bool(resource_type) and covers(registered, resource_type, mode)


class RegisteredScopes(SettingsScopes):
    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        """A token asked for without a scope carries every scope the client was registered
        with (OAuth 2.0 leaves the default to the server; an empty token helps nobody)."""
        registered = _registered(application)
        if registered is None:
            return super().get_default_scopes(application, request, *args, **kwargs)
        return sorted(registered)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        known = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:
            return known
        allowed = _registered(application) or set()
        return [scope for scope in known if grants(allowed, scope)]


def _registered(application) -> set[str] | None:
    if application is None:
        return None
    registered = ClientRegistration.objects.filter(client_id=application.client_id).first()
    return set(registered.scopes.split()) if registered else None
