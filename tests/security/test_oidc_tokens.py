"""OpenID Connect bearer tokens: a good token names the principal; forged, expired, foreign or
unsigned ones are refused with 401; keys rotate by kid through the JWKS file, without a restart
and without any network fetch."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from smartspaces.api import create_app
from smartspaces.config import Settings
from tests.api.conftest import seed
from tests.security.conftest import ALERT, OWN, world_settings

ISSUER = "https://idp.valencia.example/realms/city"
AUDIENCE = "smartspaces"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: Any, kid: str, alg: str = "RS256") -> dict[str, Any]:
    public = key.public_key()
    algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    entry: dict[str, Any] = json.loads(algorithm.to_jwk(public))
    return {**entry, "kid": kid, "alg": alg, "use": "sig"}


KEY_1, KEY_2, STRANGER = rsa_key(), rsa_key(), rsa_key()
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def token(key: Any = KEY_1, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "5f1c-42",
        "preferred_username": "lopez.m",
        "roles": ["police_operator"],
        "agency": OWN,
        "iat": now,
        "exp": now + 300,
    } | claims
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, alg, {"kid": kid})


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk(KEY_1, "k1"), jwk(EC_KEY, "e1", "ES256")]}))
    return path


@pytest.fixture
def client(tmp_path: Path, jwks_file: Path) -> Iterator[TestClient]:
    settings = world_settings(
        tmp_path,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_file=str(jwks_file),
    )
    seed(settings)
    from smartspaces.store import Store

    store = Store(settings.store.database_url())
    store.append_events([ALERT])
    store.close()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def me(client: TestClient, bearer: str) -> Any:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bearer}"})


def test_a_good_token_names_who_acts(client: TestClient) -> None:
    answer = me(client, token())
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"csrf_token": None} == {
        "name": "lopez.m",
        "display_name": "lopez.m",
        "via": "jwt",
        "roles": ["police_operator"],
        "agency": OWN,
        "spaces": None,
        "csrf_token": None,
    }
    assert me(client, token(EC_KEY, "e1", "ES256")).status_code == 200
    limited = me(client, token(spaces=["calle"], roles="city_operator")).json()
    assert limited["spaces"] == ["calle"] and limited["roles"] == ["city_operator"]
    # a person's token acts like any credential: the alert is there, the other space is not
    headers = {"Authorization": f"Bearer {token(spaces=['calle'])}"}
    assert client.get(f"/api/v1/alerts/{ALERT.id}/cap", headers=headers).status_code == 403
    headers = {"Authorization": f"Bearer {token()}"}
    assert client.get(f"/api/v1/alerts/{ALERT.id}/cap", headers=headers).status_code == 200


def _unsigned() -> str:
    return jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
        None,
        "none",
        {"kid": "k1"},
    )


def _hmac_with_public_key() -> str:
    # the classic confusion: the public key's PEM used as an HMAC secret
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    pem = KEY_1.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60}
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(pem, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{b64(signature)}"


@pytest.mark.parametrize(
    ("forged", "reason"),
    [
        (lambda: token(STRANGER), "Signature verification failed"),
        (lambda: token(STRANGER, kid="k9"), "unknown key"),
        (_unsigned, "algorithm 'none'"),
        (_hmac_with_public_key, "algorithm 'HS256'"),
        (lambda: token(aud="another-api"), "audience"),
        (lambda: token(iss="https://evil.example/"), "issuer"),
        (lambda: token(exp=int(time.time()) - 3600), "expired"),
        (lambda: token(nbf=int(time.time()) + 3600), "not valid yet"),
        (lambda: token(exp=None), "exp"),
        (lambda: token(KEY_1, "k1", "RS512"), "not accepted"),
        (lambda: token(preferred_username="<script>", sub="<script>"), "names nobody"),
        (lambda: "abc.def.ghi", "not a JWT"),
        (lambda: token()[:-4] + "AAAA", "Signature"),
    ],
)
def test_forged_foreign_and_expired_tokens_are_401(
    client: TestClient, forged: Any, reason: str
) -> None:
    answer = me(client, forged())
    assert answer.status_code == 401
    assert reason.lower() in answer.json()["detail"].lower()
    assert answer.headers["www-authenticate"].startswith("Bearer")
    # nothing is done on a refused token's behalf
    body = {"alert_id": ALERT.id}
    refused = client.post(
        "/api/v1/incidents", json=body, headers={"Authorization": f"Bearer {forged()}"}
    )
    assert refused.status_code == 401


def test_a_token_without_a_known_role_may_do_nothing(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {token(roles=['superuser', 'device'])}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 403
    assert client.get("/api/v1/alerts", headers=headers).status_code == 403


def test_keys_rotate_by_kid_through_the_file(client: TestClient, jwks_file: Path) -> None:
    rotated = token(KEY_2, "k2")
    assert me(client, rotated).status_code == 401
    stamp = jwks_file.stat().st_mtime_ns
    jwks_file.write_text(json.dumps({"keys": [jwk(KEY_1, "k1"), jwk(KEY_2, "k2")]}))
    os.utime(jwks_file, ns=(stamp + 2_000_000_000, stamp + 2_000_000_000))
    assert me(client, rotated).status_code == 200
    jwks_file.write_text(json.dumps({"keys": [jwk(KEY_2, "k2")]}))  # the old key retired
    os.utime(jwks_file, ns=(stamp + 4_000_000_000, stamp + 4_000_000_000))
    assert me(client, token()).status_code == 401
    assert me(client, rotated).status_code == 200


def test_bad_oidc_settings_are_refused(tmp_path: Path) -> None:
    for bad in (
        {"oidc_issuer": ISSUER},  # no audience, no keys
        {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE},  # no keys
        {"oidc_algorithms": ["HS256"]},
        {"oidc_algorithms": ["none"]},
    ):
        with pytest.raises(ValidationError):
            Settings(security=bad)  # type: ignore[arg-type]
    keyless = {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}  # no kid
    settings = world_settings(
        tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=keyless
    )
    from smartspaces.errors import ConfigError

    with pytest.raises(ConfigError, match="kid"), TestClient(create_app(settings)):
        pass
