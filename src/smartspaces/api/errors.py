"""How errors become answers: security errors as 401/403/429, validation errors without the
input they refused (it may be a password, or megabytes of someone else's JSON)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from smartspaces.api.guards import CHALLENGE
from smartspaces.security.errors import Forbidden, TooManyAttempts, Unauthenticated


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthenticated, _unauthenticated)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(TooManyAttempts, _too_many)  # type: ignore[arg-type]


async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
    detail = [
        {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
        for e in error.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=422)


async def _unauthenticated(_request: Request, error: Unauthenticated) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=401, headers=CHALLENGE)


async def _forbidden(_request: Request, error: Forbidden) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=403)


async def _too_many(_request: Request, error: TooManyAttempts) -> JSONResponse:
    wait = str(max(1, round(error.retry_after_s)))
    return JSONResponse({"detail": str(error)}, status_code=429, headers={"Retry-After": wait})
