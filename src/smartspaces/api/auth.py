"""Sign-in for the COP: a password gives a server-side session in an HttpOnly, SameSite=Strict
cookie (Secure outside development) and a CSRF token for changes; sign-out ends it.

Every sign-in, failure and lock-out is audited. Passwords and session ids are never logged:
the audit keeps the user name tried and the client address.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from smartspaces.api.deps import AccessDep, AuthDep, ServicesDep
from smartspaces.api.guards import CSRF_COOKIE, DENIALS, SESSION_COOKIE, Who
from smartspaces.api.views import Problem
from smartspaces.bootstrap import Services
from smartspaces.security.errors import TooManyAttempts, Unauthenticated
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """Who is signed in, what they may do, and the token their changes must carry."""

    name: str
    display_name: str
    via: str
    roles: list[str]
    agency: str | None
    spaces: list[str] | None = Field(description="The smart spaces they are limited to; null: all")
    csrf_token: str | None = Field(description="Send it as X-CSRF-Token on every change")


@router.post(
    "/login",
    response_model=Me,
    responses={401: {"model": Problem}, 429: {"model": Problem}},
)
async def login(
    body: LoginRequest, request: Request, auth: AuthDep, services: ServicesDep
) -> JSONResponse:
    """Sign in with a user name and password; sets the session and CSRF cookies. Repeated
    failures lock the name (and the client) for a while: 429 with Retry-After."""
    client = request.client.host if request.client else "unknown"
    password = body.password.get_secret_value()
    try:
        signed = await asyncio.to_thread(auth.sign_in, body.username, password, client)
    except TooManyAttempts as error:
        await _audit(services, "auth.locked_out", body.username, client)
        headers = {"Retry-After": str(max(1, round(error.retry_after_s)))}
        return JSONResponse({"detail": str(error)}, status_code=429, headers=headers)
    except Unauthenticated as error:
        await _audit(services, "auth.failed", body.username, client)
        return JSONResponse({"detail": str(error)}, status_code=401)
    await _audit(services, "auth.signed_in", signed.user.username, client, signed.user.username)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a sign-in replaces the browser's session, never adds to it
        await asyncio.to_thread(auth.sessions.end, auth.sessions.hash_of(previous[:128]))
    me = Me(
        name=signed.user.username,
        display_name=signed.user.display_name,
        via="session",
        roles=[signed.user.role],
        agency=signed.user.agency,
        spaces=list(signed.user.spaces) if signed.user.spaces is not None else None,
        csrf_token=signed.csrf_token,
    )
    response = JSONResponse(me.model_dump())
    secure = services.settings.environment != "development"
    age = int(auth.settings.session_ttl_s)
    for name, value, http_only in (
        (SESSION_COOKIE, signed.session_id, True),
        (CSRF_COOKIE, signed.csrf_token, False),  # the page reads it (double submit)
    ):
        response.set_cookie(
            name,
            value,
            max_age=age,
            path="/",
            secure=secure,
            httponly=http_only,
            samesite="strict",
        )
    return response


@router.post("/logout", status_code=204, responses=DENIALS)
async def logout(
    who: Annotated[Principal, Who("session.read")], auth: AuthDep, access: AccessDep
) -> Response:
    """End the session (a key or token simply stops being sent)."""
    if who.session_id is not None:
        await asyncio.to_thread(auth.sessions.end, who.session_id)
        await asyncio.to_thread(access.audit, who, "auth.signed_out", who.name, {})
    response = Response(status_code=204)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="strict")
    return response


@router.get("/me", response_model=Me, responses=DENIALS)
async def me(who: Annotated[Principal, Who("session.read")], request: Request, auth: AuthDep) -> Me:
    """Who the credentials name; with a session, its CSRF token."""
    session = request.cookies.get(SESSION_COOKIE)
    user = None
    if who.via == "session":
        user = await asyncio.to_thread(auth.user, who.name)
    return Me(
        name=who.name,
        display_name=user.display_name if user else who.name,
        via=who.via,
        roles=sorted(who.roles),
        agency=who.agency,
        spaces=sorted(who.spaces) if who.spaces is not None else None,
        csrf_token=auth.sessions.csrf_token(session) if session and who.via == "session" else None,
    )


async def _audit(
    services: Services, action: str, username: str, client: str, actor: str = "anonymous"
) -> None:
    details = {"client": client, "user": username[:64]}
    await asyncio.to_thread(
        services.store.audit, actor, action, f"user:{username[:64]}", details, services.clock.now()
    )
