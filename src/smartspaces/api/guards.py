"""The dependency every route carries: who is calling, and may they do the route's action?

``Allow(action)`` authenticates (API key, bearer JWT or device token, COP session cookie with
its CSRF token on changes) and checks ``security.policy.POLICY``; ``AllowSocket`` does the same
for the WebSocket stream. The security schemes are declared here, so OpenAPI documents them on
every operation. ``unguarded`` lists routes that carry neither a guard nor a public path: the
app refuses to start with one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketException
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from smartspaces.security.authenticator import Authenticator, Credentials
from smartspaces.security.errors import Forbidden, Unauthenticated
from smartspaces.security.policy import PUBLIC_PATHS, Action, require
from smartspaces.security.roles import Principal

SESSION_COOKIE = "smartspaces_session"
CSRF_COOKIE = "smartspaces_csrf"
CSRF_HEADER = "X-CSRF-Token"
API_KEY_HEADER = "X-API-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="smartspaces"'}
SOCKET_UNAUTHENTICATED, SOCKET_FORBIDDEN = 4401, 4403
"""WebSocket close codes that mirror HTTP 401 and 403."""

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    bearerFormat="JWT",
    description="OpenID Connect access token (JWT) from the configured issuer",
)
API_KEY = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="A machine client's key (smartspaces api-keys add), scoped to a role and agency",
)
SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="SessionCookie",
    description="COP session from POST /api/v1/auth/login; changes also need the "
    f"{CSRF_HEADER} header",
)
DEVICE_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="DeviceToken",
    description="A registered device's token (smartspaces devices add)",
)
DENIALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No usable credentials (missing, unknown, expired, revoked)"},
    403: {"description": "Not allowed for this role, agency or space (or no CSRF token)"},
}


def authenticator(request: Request | WebSocket) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


class Guard:
    """Base of the route guards: a route is protected if one of these is among its dependencies."""

    action: Action


class Allow(Guard):
    """Authenticate the caller and check that the policy lets them do ``action``."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        api_key: Annotated[str | None, Depends(API_KEY)],
        session: Annotated[str | None, Depends(SESSION)],
    ) -> Principal:
        credentials = Credentials(
            api_key=api_key,
            bearer=bearer.credentials if bearer else bearer_of(request.headers),
            session=session,
            csrf_header=request.headers.get(CSRF_HEADER),
            csrf_cookie=request.cookies.get(CSRF_COOKIE),
            changes=request.method not in SAFE_METHODS,
        )
        principal = await checked(authenticator(request), credentials, self.action)
        request.state.principal = principal
        return principal


async def checked(auth: Authenticator, credentials: Credentials, action: Action) -> Principal:
    """The principal behind ``credentials`` if it may do ``action``; 401 or 403 otherwise."""
    try:
        principal = await asyncio.to_thread(auth.authenticate, credentials)
        require(principal, action)
    except Unauthenticated as error:
        raise HTTPException(401, str(error), headers=CHALLENGE) from error
    except Forbidden as error:
        raise HTTPException(403, str(error)) from error
    return principal


def bearer_of(headers: Mapping[str, str]) -> str | None:
    """The bearer token of an Authorization header; "Bearer" with nothing after it is a
    credential too (a wrong one)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


class AllowSocket(Guard):
    """``Allow`` for the WebSocket stream: refusals close it with 4401 or 4403."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, websocket: WebSocket) -> Principal:
        headers, cookies = websocket.headers, websocket.cookies
        session = cookies.get(SESSION_COOKIE)
        bearer = bearer_of(headers)
        api_key = headers.get(API_KEY_HEADER)
        if session and not (api_key or bearer) and not _same_origin(websocket):
            # a browser sends the cookie whoever opened the socket: only our pages may
            raise WebSocketException(SOCKET_FORBIDDEN, "cross-origin stream refused")
        credentials = Credentials(api_key=api_key, bearer=bearer, session=session)
        websocket.state.credentials = credentials  # checked again while the stream is open
        try:
            return await checked(authenticator(websocket), credentials, self.action)
        except HTTPException as error:
            code = SOCKET_UNAUTHENTICATED if error.status_code == 401 else SOCKET_FORBIDDEN
            raise WebSocketException(code, str(error.detail)[:120]) from error


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: browsers always send Origin on a WebSocket
    allowed = set(authenticator(websocket).settings.cors_origins)
    host = websocket.headers.get("host", "")
    return origin in allowed or origin.split("://", 1)[-1] == host


def Who(action: Action) -> Any:  # noqa: N802 - reads as a type in route signatures
    """``who: Annotated[Principal, Who("alerts.read")]`` in a route's parameters."""
    return Depends(Allow(action))


def route_guards(app: FastAPI) -> Iterator[tuple[str, str, Action | None]]:
    """(method, path, action) of every route of ``app.routes`` (included routers walked
    through); action None for a route without a guard."""
    for context in iter_route_contexts(app.routes):
        path = str(context.path or "")
        route = context.original_route
        methods = sorted(context.methods or ({"WEBSOCKET"} if _socket(route) else {"GET"}))
        guard = None
        if isinstance(route, APIRoute | APIWebSocketRoute):
            guard = _guard(getattr(context, "dependant", None) or route.dependant)
        for method in methods:
            yield method, path, guard.action if guard else None


def _socket(route: object) -> bool:
    return isinstance(route, APIWebSocketRoute)


def unguarded(app: FastAPI) -> list[str]:
    """Routes that carry no guard and are not public: each is a hole in the policy."""
    return [
        f"{method} {path}"
        for method, path, action in route_guards(app)
        if action is None and path not in PUBLIC_PATHS
    ]


def _guard(dependant: Dependant) -> Guard | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Guard):
            return dependency.call
        found = _guard(dependency)
        if found:
            return found
    return None
