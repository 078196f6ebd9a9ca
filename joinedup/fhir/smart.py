"""SMART Backend Services: a partner system authenticates at the token endpoint with a JWT
it signed with its private key (`private_key_jwt`), checked against the public keys (JWKS)
registered for it, as NHS England's system-to-system APIs ask.

https://hl7.org/fhir/smart-app-launch/backend-services.html. The assertion is signed with
RS384 or ES384; its `iss` and `sub` are the client id, its `aud` this token endpoint, its
`exp` at most five minutes ahead, and its `jti` is accepted once. Every refusal is OAuth's
`invalid_client` with a description that says exactly what is wrong.
"""

import datetime as dt

import jwt
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend
from oauthlib.oauth2 import InvalidClientError, InvalidScopeError

from joinedup.fhir.models import ClientRegistration, UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
KEY_TYPES = {"RS384": "RSA", "ES384": "EC"}
MAX_LIFETIME = dt.timedelta(minutes=5)
MIN_RSA_BITS = 2048
LEEWAY_SECONDS = 60  # clocks of two systems differ a little
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "jti")


class Backend(OAuthLibCore):
    """django-oauth-toolkit's bridge to oauthlib, handing on the absolute URL of the
    endpoint, which an assertion's `aud` must name."""

    def _get_escaped_full_path(self, request):
        return request.build_absolute_uri(super()._get_escaped_full_path(request))


class Validator(OAuth2Validator):
    """django-oauth-toolkit's validator, with a signed assertion as a third way for a client
    to authenticate (after HTTP Basic and a secret in the body), and a refused scope named."""

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        available = set(get_scopes_backend().get_available_scopes(application=client,
                                                                   request=request))  # fmt: skip
        refused = [scope for scope in scopes if scope not in available]
        if refused:
            raise InvalidScopeError(
                description=f"This client is not registered for {', '.join(refused)}. Ask "
                "for scopes it was registered with (system/*.read covers each "
                "system/<Type>.read).",
                request=request,
            )
        return True

    def authenticate_client(self, request, *args, **kwargs):
        assertion_type = request._params.get("client_assertion_type")
        if assertion_type is None and request._params.get("client_assertion") is None:
            return super().authenticate_client(request, *args, **kwargs)
        if assertion_type != ASSERTION_TYPE:
            raise InvalidClientError(description=f"Set client_assertion_type to {ASSERTION_TYPE}.")
        assertion = request._params.get("client_assertion") or ""
        request.client = verify_assertion(assertion, token_url=request.uri.split("?")[0])
        request.client_id = request.client.client_id
        return True


def verify_assertion(assertion: str, *, token_url: str, now=None):
    """The application whose registered key signed `assertion` for `token_url`; raises
    `InvalidClientError` saying what is wrong. The assertion's `jti` is spent."""
    now = now or timezone.now()
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidClientError(
            description="The client_assertion is not a signed JWT (three base64url parts)."
        ) from None
    algorithm, kid, client_id = header.get("alg"), header.get("kid"), unverified.get("iss")
    if algorithm not in ALGORITHMS:
        raise InvalidClientError(
            description=f"Sign the assertion with RS384 or ES384, not {algorithm}."
        )
    if not isinstance(client_id, str) or not client_id:
        raise InvalidClientError(description="The assertion lacks the iss claim (the client id).")
    application, registration = _registered(client_id)
    key = _key(registration, kid, algorithm)
    try:
        claims = jwt.decode(
            assertion,
            key=key,
            algorithms=[algorithm],
            audience=[token_url, token_url.rstrip("/")],
            issuer=client_id,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError as error:
        raise InvalidClientError(description=_explain(error, token_url)) from None
    if claims["sub"] != client_id:
        raise InvalidClientError(
            description="The assertion's sub must equal its iss (the client id)."
        )
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    if expires > now + MAX_LIFETIME + dt.timedelta(seconds=LEEWAY_SECONDS):
        raise InvalidClientError(
            description="The assertion's exp is more than five minutes ahead; sign one that "
            "expires within five minutes."
        )
    _spend(client_id, str(claims["jti"]), expires, now)
    return application


def _registered(client_id: str):
    application = get_application_model().objects.filter(client_id=client_id).first()
    registration = ClientRegistration.objects.filter(client_id=client_id).first()
    if application is None or registration is None or not registration.jwks:
        raise InvalidClientError(
            description=f"No client {client_id!r} is registered to authenticate with a key."
        )
    return application, registration


def _key(registration, kid, algorithm: str) -> jwt.PyJWK:
    if not kid:
        raise InvalidClientError(description="The assertion's header names no key (kid).")
    found = [k for k in registration.jwks["keys"] if k.get("kid") == kid]
    if not found:
        raise InvalidClientError(
            description=f"No key with kid {kid!r} is registered for this client."
        )
    if found[0].get("kty") != KEY_TYPES[algorithm]:
        raise InvalidClientError(
            description=f"The key {kid!r} is {found[0].get('kty')}; it cannot verify {algorithm}."
        )
    return jwt.PyJWK(found[0], algorithm=algorithm)


def _explain(error: jwt.PyJWTError, token_url: str) -> str:
    match error:
        case jwt.ExpiredSignatureError():
            return "The assertion has expired (its exp is past); sign a new one."
        case jwt.ImmatureSignatureError():
            return "The assertion is not valid yet (its nbf or iat is in the future)."
        case jwt.InvalidAudienceError():
            return f"The assertion's aud must be this token endpoint: {token_url}."
        case jwt.InvalidIssuerError():
            return "The assertion's iss must be the client id."
        case jwt.MissingRequiredClaimError():
            return f"The assertion lacks the {error.claim} claim."
        case jwt.InvalidSignatureError():
            return "The assertion's signature does not verify with the registered key."
    return f"The assertion cannot be read: {error}."


def _spend(client_id: str, jti: str, expires, now) -> None:
    """Accept this `jti` once. A spent `jti` is forgotten only once its assertion could no
    longer pass the `exp` check, leeway included."""
    forgotten = now - dt.timedelta(seconds=2 * LEEWAY_SECONDS)
    UsedAssertion.objects.filter(client_id=client_id, expires_at__lt=forgotten).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client_id=client_id, jti=jti[:255], expires_at=expires)
    except IntegrityError:
        raise InvalidClientError(
            description="This assertion was used before (its jti is spent); sign a new "
            "assertion for each token request."
        ) from None


def configuration(*, token_url: str, scopes) -> dict:
    """The `.well-known/smart-configuration` document of the FHIR base."""
    return {
        "token_endpoint": token_url,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
        ],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": list(scopes),
        "capabilities": ["client-confidential-asymmetric", "permission-v1"],
    }


def checked_jwks(jwks) -> dict:
    """A client's JWK Set as registered: public RSA or EC keys, each with a `kid`; raises
    `ValidationError` naming what is wrong."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationError('Give the keys as a JWK Set: {"keys": [...]}.')
    kids = set()
    for number, key in enumerate(keys, 1):
        if not isinstance(key, dict) or key.get("kty") not in KEY_TYPES.values():
            raise ValidationError(f"Key {number} is not an RSA or EC key (kty).")
        if not key.get("kid") or key["kid"] in kids:
            raise ValidationError(f"Key {number} needs a kid of its own.")
        if "d" in key:
            raise ValidationError(
                f"Key {number} ({key['kid']}) is a private key; register only the public key."
            )
        if key["kty"] == "EC" and key.get("crv") != "P-384":
            raise ValidationError(
                f"Key {number} ({key['kid']}) is on curve {key.get('crv')}; ES384 needs P-384."
            )
        try:
            parsed = jwt.PyJWK(key, algorithm="RS384" if key["kty"] == "RSA" else "ES384")
        except jwt.PyJWTError as error:
            raise ValidationError(f"Key {number} ({key['kid']}) cannot be read: {error}.") from None
        if key["kty"] == "RSA" and parsed.key.key_size < MIN_RSA_BITS:
            raise ValidationError(
                f"Key {number} ({key['kid']}) has {parsed.key.key_size} bits; use at least "
                f"{MIN_RSA_BITS}."
            )
        kids.add(key["kid"])
    return {"keys": keys}
