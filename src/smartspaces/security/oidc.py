"""OpenID Connect bearer tokens: JWTs checked against configured keys, never fetched at run time.

A token is accepted only if its ``alg`` is one of the configured asymmetric algorithms (so
``none`` and HMAC tricks fail), its ``kid`` names a configured key (rotation: publish the new key
beside the old one, then drop the old one), its signature verifies, its ``iss`` and ``aud`` are
ours and it is within its ``nbf``/``exp`` by our clock (with a small leeway). Its claims give
the principal: a name, roles, an agency and the spaces it is limited to.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, NamedTuple

import jwt

from smartspaces.clock import Clock
from smartspaces.config.security import SecuritySettings
from smartspaces.errors import ConfigError
from smartspaces.security.errors import Unauthenticated
from smartspaces.security.roles import (
    AGENCY_PATTERN,
    NAME_PATTERN,
    PERSON_ROLES,
    SPACE_PATTERN,
    Principal,
    Role,
)


class _Key(NamedTuple):
    jwk: jwt.PyJWK
    alg: str | None  # the algorithm the key is declared for, if the JWKS says


class Keyring:
    """The issuer's signing keys by ``kid``; a JWKS file is read again when it changes."""

    def __init__(self, jwks: dict[str, Any] | None, path: Path | None) -> None:
        self._inline, self._path = jwks, path
        self._stamp: int | None = None
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()
        self._load()

    def key(self, kid: str) -> _Key | None:
        self._load()
        return self._keys.get(kid)

    def _load(self) -> None:
        with self._lock:
            if self._path is None:
                if self._stamp is None:
                    self._keys, self._stamp = _parse(self._inline or {"keys": []}, "oidc_jwks"), 0
                return
            try:
                stamp = self._path.stat().st_mtime_ns
            except OSError as error:
                if self._stamp is None:
                    raise ConfigError(
                        f"cannot read oidc_jwks_file {self._path}: {error}"
                    ) from error
                return  # keep the keys we have: a file being replaced must not sign anybody out
            if stamp == self._stamp:
                return
            data = json.loads(self._path.read_text(encoding="utf-8"))
            inline = _parse(self._inline, "oidc_jwks") if self._inline else {}
            self._keys, self._stamp = {**inline, **_parse(data, str(self._path))}, stamp


def _parse(jwks: dict[str, Any], where: str) -> dict[str, _Key]:
    keys: dict[str, _Key] = {}
    for index, entry in enumerate(jwks.get("keys", [])):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ConfigError(f"{where}: key {index} has no kid (needed to choose and rotate keys)")
        try:
            declared = entry.get("alg")
            keys[kid] = _Key(jwt.PyJWK(entry), declared if isinstance(declared, str) else None)
        except jwt.PyJWTError as error:
            raise ConfigError(f"{where}: key {kid!r} is not usable: {error}") from error
    return keys


class TokenValidator:
    """Turns a bearer JWT into a principal, or refuses it with the reason."""

    def __init__(self, settings: SecuritySettings, clock: Clock) -> None:
        self._settings, self._clock = settings, clock
        self._keyring = (
            Keyring(settings.oidc_jwks, settings.oidc_jwks_file) if settings.oidc_issuer else None
        )

    def principal(self, token: str) -> Principal:
        if self._keyring is None:
            raise Unauthenticated("bearer tokens are not accepted here: no issuer is configured")
        return _principal(self._claims(token, self._keyring), self._settings)

    def _claims(self, token: str, keyring: Keyring) -> dict[str, Any]:
        settings = self._settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated("bearer token is not a JWT") from error
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in settings.oidc_algorithms:
            raise Unauthenticated(f"token algorithm {str(alg)[:16]!r} is not accepted")
        key = keyring.key(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("token is signed with an unknown key (kid)")
        if key.alg is not None and key.alg != alg:
            raise Unauthenticated("token algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.jwk.key,
                algorithms=[alg],
                audience=settings.oidc_audience,
                issuer=settings.oidc_issuer,
                # times are checked below against our own clock
                options={
                    "require": ["exp", "iss", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except (jwt.PyJWTError, TypeError, ValueError) as error:
            raise Unauthenticated(f"token refused: {error}") from error
        self._check_times(claims)
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock.now().timestamp()
        leeway = self._settings.oidc_leeway_s
        expires, not_before = claims.get("exp"), claims.get("nbf", now)
        if not isinstance(expires, int | float) or not isinstance(not_before, int | float):
            raise Unauthenticated("token times (exp, nbf) must be numbers")
        if now > expires + leeway:
            raise Unauthenticated("token has expired")
        if now < not_before - leeway:
            raise Unauthenticated("token is not valid yet")


def _principal(claims: dict[str, Any], settings: SecuritySettings) -> Principal:
    name = claims.get(settings.oidc_name_claim) or claims.get("sub")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise Unauthenticated("token names nobody usable (letters, digits and . _ : - only)")
    raw_roles = claims.get(settings.oidc_roles_claim, [])
    listed = [raw_roles] if isinstance(raw_roles, str) else raw_roles
    if not isinstance(listed, list):
        raise Unauthenticated("token roles must be a name or a list of names")
    roles: frozenset[Role] = frozenset(r for r in PERSON_ROLES if r in listed)
    agency = claims.get(settings.oidc_agency_claim)
    if not isinstance(agency, str) or not AGENCY_PATTERN.fullmatch(agency):
        agency = None
    spaces = claims.get(settings.oidc_spaces_claim)
    if spaces is not None and (
        not isinstance(spaces, list)
        or not all(isinstance(s, str) and SPACE_PATTERN.fullmatch(s) for s in spaces)
    ):
        raise Unauthenticated("token spaces must be a list of space ids")
    return Principal(
        name=name,
        via="jwt",
        roles=roles,
        agency=agency,
        spaces=frozenset(spaces) if spaces is not None else None,
    )
