"""The token endpoint grants a system client only the scopes it was registered with."""

from oauth2_provider.scopes import SettingsScopes

from joinedup.fhir.models import ClientScopes


class RegisteredScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        known = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:
            return known
        registered = ClientScopes.objects.filter(client_id=application.client_id).first()
        allowed = set(registered.scopes.split()) if registered else set()
        return [scope for scope in known if scope in allowed]
