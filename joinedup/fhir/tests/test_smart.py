"""SMART Backend Services: discovery, a token for a signed assertion made with a freshly
generated key, the scope rules, and every way an assertion can be wrong (nothing issued)."""

import datetime as dt
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.utils import timezone
from oauth2_provider.models import AccessToken

from joinedup.fhir.models import ClientRegistration, UsedAssertion
from joinedup.fhir.services import create_client
from joinedup.fhir.smart import ASSERTION_TYPE
from joinedup.fhir.tests.conftest import secret_asker

TOKEN_URL = "http://testserver/o/token/"


def _public_jwk(private_key, kid: str) -> dict:
    if isinstance(private_key, rsa.RSAPrivateKey):
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
        return key | {"kid": kid, "alg": "RS384", "use": "sig"}
    key = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
    return key | {"kid": kid, "alg": "ES384", "use": "sig"}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def keyed(hub, rsa_key, ec_key):
    """A client registered with an RSA and an EC public key and `system/*.read`."""
    jwks = {"keys": [_public_jwk(rsa_key, "rsa-1"), _public_jwk(ec_key, "ec-1")]}
    application, secret = create_client(
        service=hub.wellbeing, name="Partner EPR", scopes=["system/*.read"], jwks=jwks
    )
    assert secret == ""
    return application


def _assertion(application, key, *, kid="rsa-1", algorithm="RS384", **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": application.client_id,
        "sub": application.client_id,
        "aud": TOKEN_URL,
        "exp": now + 240,
        "jti": uuid.uuid4().hex,
    } | changes
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})


def _exchange(assertion: str, scope: str = "system/Patient.read", **extra):
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    } | extra
    return HttpClient().post("/o/token/", form)


def test_discovery_names_the_token_endpoint_and_private_key_jwt(db):
    response = HttpClient().get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["token_endpoint"] == TOKEN_URL
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]
    assert document["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert document["grant_types_supported"] == ["client_credentials"]
    assert "system/Patient.read" in document["scopes_supported"]
    assert "api.read" not in document["scopes_supported"]
    assert "client-confidential-asymmetric" in document["capabilities"]
    refused = HttpClient().post(
        "/fhir/.well-known/smart-configuration", "{}", content_type="application/json"
    )
    assert refused.status_code == 405
    assert refused["Allow"] == "GET"


def test_the_capability_statement_names_the_token_endpoint(db):
    security = HttpClient().get("/fhir/metadata").json()["rest"][0]["security"]
    (oauth,) = security["extension"]
    assert oauth["url"].endswith("/oauth-uris")
    assert oauth["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]


@pytest.mark.parametrize(("kid", "key_name", "algorithm"), [
    ("rsa-1", "rsa_key", "RS384"), ("ec-1", "ec_key", "ES384"),
])  # fmt: skip
def test_a_signed_assertion_gets_a_token_that_reads_as_the_clients_service(
    record, keyed, request, kid, key_name, algorithm
):
    key = request.getfixturevalue(key_name)
    response = _exchange(_assertion(keyed, key, kid=kid, algorithm=algorithm))
    assert response.status_code == 200, response.content
    token = response.json()
    assert token["scope"] == "system/Patient.read"  # within the registered system/*.read
    client = HttpClient(headers={"Authorization": f"Bearer {token['access_token']}"})
    assert client.get(f"/fhir/Patient/{record.student.uuid}").status_code == 200
    refused = client.get("/fhir/Observation")
    assert refused.status_code == 403
    assert "system/Observation.read" in refused.json()["issue"][0]["diagnostics"]


def test_a_token_asked_for_without_a_scope_carries_the_registered_ones(hub):
    registered = ["system/*.read", "system/QuestionnaireResponse.write"]
    ask = secret_asker(hub.wellbeing, registered)
    granted = ask(None)
    assert granted.status_code == 200, granted.content
    assert set(granted.json()["scope"].split()) == set(registered)


def test_a_wildcard_registration_grants_each_type_but_not_more(hub):
    ask = secret_asker(hub.wellbeing, ["system/*.read"])
    granted = ask("system/Patient.read system/Flag.read")
    assert granted.status_code == 200, granted.content
    assert set(granted.json()["scope"].split()) == {"system/Patient.read", "system/Flag.read"}
    for beyond in ("system/QuestionnaireResponse.write", "api.read", "user/Patient.read"):
        refused = ask(f"system/Patient.read {beyond}").json()
        assert refused["error"] == "invalid_scope", beyond
        assert refused["error_description"].startswith(
            f"This client is not registered for {beyond}."
        )


def _refused(response, words: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "invalid_client"
    assert words in body["error_description"], body["error_description"]


def test_a_replayed_assertion_is_refused(keyed, rsa_key):
    assertion = _assertion(keyed, rsa_key)
    assert _exchange(assertion).status_code == 200
    _refused(_exchange(assertion), "jti is spent")
    assert AccessToken.objects.count() == 1


def test_a_spent_jti_is_forgotten_only_after_its_assertion_expired(keyed, rsa_key):
    stale = UsedAssertion.objects.create(
        client_id=keyed.client_id, jti="old", expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    # Expired thirty seconds ago: within the leeway it would still pass the exp check.
    just_expired = UsedAssertion.objects.create(
        client_id=keyed.client_id, jti="just", expires_at=timezone.now() - dt.timedelta(seconds=30)
    )
    recent = _assertion(keyed, rsa_key, jti="recent")
    assert _exchange(recent).status_code == 200
    assert not UsedAssertion.objects.filter(pk=stale.pk).exists()
    assert UsedAssertion.objects.filter(pk=just_expired.pk).exists()
    replay = _assertion(keyed, rsa_key, jti="just", exp=int(time.time()) - 30)
    _refused(_exchange(replay), "jti is spent")
    assert UsedAssertion.objects.filter(jti="recent").exists()


@pytest.mark.parametrize(("changes", "words"), [
    ({"exp": int(time.time()) - 600}, "has expired"),
    ({"exp": int(time.time()) + 3600}, "more than five minutes ahead"),
    ({"aud": "https://elsewhere.example/token"}, f"aud must be this token endpoint: {TOKEN_URL}"),
    ({"sub": "someone-else"}, "sub must equal its iss"),
    ({"jti": None}, "lacks the jti claim"),
    ({"exp": None}, "lacks the exp claim"),
    ({"kid": "unknown"}, "No key with kid 'unknown'"),
    ({"kid": "ec-1"}, "it cannot verify RS384"),
    ({"kid": ""}, "names no key (kid)"),
])  # fmt: skip
def test_a_wrong_assertion_is_refused_and_nothing_is_issued(keyed, rsa_key, changes, words):
    kid = changes.pop("kid", "rsa-1")
    _refused(_exchange(_assertion(keyed, rsa_key, kid=kid, **changes)), words)
    assert not AccessToken.objects.exists()
    assert not UsedAssertion.objects.exists()


def test_an_assertion_signed_by_another_key_is_refused(keyed):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _refused(_exchange(_assertion(keyed, stranger)), "signature does not verify")
    assert not AccessToken.objects.exists()


def test_other_wrong_assertions_say_what_is_wrong(keyed, rsa_key, hub):
    _refused(_exchange("not.a.jwt"), "not a signed JWT")
    _refused(
        _exchange(_assertion(keyed, "a shared secret of thirty-two bytes", algorithm="HS256")),
        "RS384 or ES384, not HS256",
    )
    _refused(_exchange(_assertion(keyed, rsa_key, iss="nobody", sub="nobody")),
             "No client 'nobody' is registered to authenticate with a key")  # fmt: skip
    secret_only, _secret = create_client(
        service=hub.wellbeing, name="Old", scopes=["system/*.read"]
    )
    signed = _assertion(secret_only, rsa_key, iss=secret_only.client_id, sub=secret_only.client_id)
    _refused(_exchange(signed), "is registered to authenticate with a key")
    _refused(_exchange(_assertion(keyed, rsa_key), client_assertion_type="basic"),
             f"Set client_assertion_type to {ASSERTION_TYPE}")  # fmt: skip
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(("jwks", "words"), [
    ([], "JWK Set"),
    ({"keys": [{"kty": "oct", "kid": "a", "k": "c2VjcmV0"}]}, "not an RSA or EC key"),
    ({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}, "needs a kid"),
    ({"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]}, "private key"),
    ({"keys": [{"kty": "EC", "kid": "a", "crv": "P-384", "x": "AQAB"}]}, "cannot be read"),
    ({"keys": [{"kty": "EC", "kid": "a", "crv": "P-256", "x": "AQAB", "y": "AQAB"}]},
     "ES384 needs P-384"),
    ({"keys": [_public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 - refused
                           "a")]}, "use at least 2048"),
])  # fmt: skip
def test_keys_that_cannot_be_registered_are_refused(hub, jwks, words):
    with pytest.raises(ValidationError, match=words):
        create_client(service=hub.wellbeing, name="Bad", scopes=["system/*.read"], jwks=jwks)
    assert not ClientRegistration.objects.exists()


def test_create_client_registers_keys_from_a_file(hub, rsa_key, tmp_path, capsys):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_public_jwk(rsa_key, "k1")]}))
    call_command("create_client", service=str(hub.wellbeing.uuid), name="EPR",
                 scopes="system/*.read", jwks=path)  # fmt: skip
    out = capsys.readouterr().out
    assert "private_key_jwt" in out
    assert "client_secret" not in out
    assert ClientRegistration.objects.get().jwks["keys"][0]["kid"] == "k1"
    path.write_text("{")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("create_client", service=str(hub.wellbeing.uuid), name="EPR",
                     scopes="system/*.read", jwks=path)  # fmt: skip
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("create_client", service=str(hub.wellbeing.uuid), name="EPR",
                     scopes="system/*.read", jwks=tmp_path / "missing.json")  # fmt: skip
    assert ClientRegistration.objects.count() == 1


def test_fhirpy_writes_with_a_smart_token_against_the_running_server(live_server, hub, keyed,
                                                                      rsa_key):  # fmt: skip
    """A partner system as it would run: a SMART Backend Services token from the running
    server, then fhirpy creating a response in its own shape, conditionally, and a score."""
    import requests
    from fhirpy import SyncFHIRClient

    from joinedup.fhir.models import ClientRegistration
    from joinedup.fhir.tests.test_create import partner_phq9
    from joinedup.fhir.tests.test_foreign_responses import phq9_total
    from joinedup.fhir.tests.test_search_standard import ONE_SHOT
    from joinedup.measures.models import Administration

    registration = ClientRegistration.objects.get(client_id=keyed.client_id)
    registration.scopes = (
        "system/*.read system/QuestionnaireResponse.write system/Observation.write"
    )
    registration.save()
    token_url = f"{live_server.url}/o/token/"
    claims = {"aud": token_url}
    response = requests.post(token_url, data={
        "grant_type": "client_credentials",
        "scope": "system/QuestionnaireResponse.write system/Observation.write system/*.read",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(keyed, rsa_key, **claims),
    }, headers=ONE_SHOT, timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    client = SyncFHIRClient(f"{live_server.url}/fhir", extra_headers=ONE_SHOT,
                            authorization=f"Bearer {response.json()['access_token']}")  # fmt: skip

    sent = client.resource("QuestionnaireResponse", **partner_phq9(hub.student))
    sent.create(identifier="https://partner.example/qr|qr-1")
    again = client.resource("QuestionnaireResponse", **partner_phq9(hub.student))
    again.create(identifier="https://partner.example/qr|qr-1")
    assert again.id == sent.id
    assert Administration.objects.count() == 1
    score = client.resource("Observation", **phq9_total(hub.student))
    score.save()
    stored = client.reference("Observation", score.id).to_resource()
    assert stored["valueQuantity"]["value"] == 14
    assert stored["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation"
    ]
