"""Settings section: authentication, roles and agencies, sessions, hardening.

The defaults make a development install work at once (demo users, a session secret everybody
knows); ``smartspaces.security.startup.refuse_unsafe`` refuses those same defaults outside
development, so a production server cannot start with them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from smartspaces.config.infrastructure import _Section

DEVELOPMENT_SESSION_SECRET = "development-only-session-secret-not-for-production"  # noqa: S105
"""Known to everybody who reads this file: refused outside development."""
DEVELOPMENT_DEMO_PASSWORD = "smartspaces-demo"  # noqa: S105
"""The demo users' password in development (documented, printed by the server)."""
_ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_AGENCY = r"^[a-z0-9][a-z0-9\-]{0,63}$"


class SecuritySettings(_Section):
    """Authentication, roles and agencies, sessions, hardening."""

    session_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SESSION_SECRET),
        title="Session secret",
        description="Keys session ids and CSRF tokens (HMAC); at least 32 characters. "
        "Changing it signs everybody out. The default is refused outside development",
    )
    session_ttl_s: float = Field(
        default=12 * 3600.0,
        gt=0,
        le=7 * 86_400,
        title="Session lifetime",
        description="A COP session ends this long after sign-in, whatever happens (one shift)",
    )
    session_idle_s: float = Field(
        default=3600.0,
        gt=0,
        title="Idle timeout",
        description="A session unused this long ends",
    )
    stream_recheck_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        title="Stream re-check",
        description="An open live stream checks its credentials again this often",
    )
    demo_users: bool | None = Field(
        default=None,
        title="Demo users",
        description="Create one user per role on start (agencies valencia-police, valencia-city, "
        "...); default: in development only",
    )
    demo_password: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_DEMO_PASSWORD),
        title="Demo users' password",
        description="Password of the demo users; the default is refused outside development",
    )
    password_min_length: int = Field(
        default=12, ge=8, le=128, title="Shortest password", description="For new passwords"
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        title="Failures before lock-out",
        description="Failed sign-ins of one user name within the window that lock it",
    )
    login_client_max_failures: int = Field(
        default=20,
        ge=1,
        title="Failures per client",
        description="Failed sign-ins from one client address within the window that lock it",
    )
    login_window_s: float = Field(
        default=900.0, gt=0, title="Failure window", description="Failures older are forgotten"
    )
    lockout_s: float = Field(
        default=900.0, gt=0, title="Lock-out", description="How long a locked name or client waits"
    )
    alert_agencies: list[str] = Field(
        default=["valencia-police", "valencia-city"],
        title="Alert agencies",
        description="Agencies that receive every alert (the control rooms); another agency "
        "sees an alert once one of these shares it",
    )
    cors_origins: list[str] = Field(
        default=[],
        title="CORS origins",
        description="Other web origins allowed to call the API from a browser (no wildcard); "
        "default none",
    )
    hsts_max_age_s: int = Field(
        default=63_072_000,
        ge=0,
        title="HSTS max-age",
        description="Strict-Transport-Security outside development (0 leaves it out)",
    )
    max_json_depth: int = Field(
        default=32, ge=2, le=256, title="JSON depth", description="Deepest nesting of a body"
    )
    oidc_issuer: str | None = Field(
        default=None,
        title="OpenID Connect issuer",
        description="Bearer JWTs are accepted only from this issuer (iss); none: no JWTs",
    )
    oidc_audience: str | None = Field(
        default=None, title="Audience", description="The aud a token must carry for this API"
    )
    oidc_jwks: dict[str, Any] | None = Field(
        default=None,
        title="Signing keys",
        description="The issuer's JWKS ({'keys': [...]}); keys are chosen by kid",
    )
    oidc_jwks_file: Path | None = Field(
        default=None,
        title="Signing keys file",
        description="A JWKS file, read again when it changes (rotate keys without a restart); "
        "nothing is fetched over the network",
    )
    oidc_algorithms: list[str] = Field(
        default=["RS256", "ES256"],
        min_length=1,
        title="Algorithms",
        description="Accepted JWT signature algorithms (asymmetric only)",
    )
    oidc_leeway_s: float = Field(
        default=30.0, ge=0, le=300, title="Clock leeway", description="Tolerated clock skew"
    )
    oidc_name_claim: str = Field(
        default="preferred_username", title="Name claim", description="Who acts (else sub)"
    )
    oidc_roles_claim: str = Field(
        default="roles", title="Roles claim", description="A role name or a list of them"
    )
    oidc_agency_claim: str = Field(
        default="agency", title="Agency claim", description="The agency the person works for"
    )
    oidc_spaces_claim: str = Field(
        default="spaces",
        title="Spaces claim",
        description="Smart spaces the person is limited to; absent: all",
    )

    @field_validator("session_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("session_secret must be at least 32 characters")
        return value

    @field_validator("alert_agencies")
    @classmethod
    def _agencies(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.fullmatch(_AGENCY, a)]
        if bad:
            raise ValueError(f"agency names are lower-case letters, digits and -: {bad}")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if "*" in origin or not origin.startswith(("https://", "http://")):
                raise ValueError(f"CORS origins are full http(s) origins, no wildcard: {origin!r}")
            if origin.rstrip("/") != origin or origin.count("/") > 2:
                raise ValueError(f"a CORS origin has no path: {origin!r}")
        return value

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        refused = [a for a in value if a not in _ASYMMETRIC]
        if refused:
            raise ValueError(f"only asymmetric JWT algorithms are accepted, not {refused}")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> SecuritySettings:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("oidc_audience is needed with oidc_issuer")
        if self.oidc_issuer and self.oidc_jwks is None and self.oidc_jwks_file is None:
            raise ValueError("oidc_jwks or oidc_jwks_file is needed with oidc_issuer")
        return self
