"""Schemathesis against the app's own OpenAPI, with credentials: generated requests to every
operation must never get a 5xx, and every documented answer must match its schema.

Cases are sent through a TestClient (the app's lifespan runs once for the whole test), with an
administrator's API key and the plaza gateway's device token (for the ingest routes). The number
of examples per operation is bounded so that the whole run stays under a minute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from smartspaces.api import create_app
from smartspaces.store import Store
from tests.api.conftest import issue_key, seed
from tests.security.conftest import ALERT, CALLE, SPARE, world_settings

EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance]


def test_no_operation_answers_5xx_or_off_its_schema(tmp_path: Path) -> None:
    settings = world_settings(tmp_path)
    token = seed(settings)
    store = Store(settings.store.database_url())
    store.append_events([ALERT, SPARE, CALLE])
    key = issue_key(store, "administrator", "agency-a")
    store.close()
    auth = {"Authorization": f"Bearer {token}", "X-API-Key": key}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        spec = client.get("/openapi.json").json()
        schema = schemathesis.openapi.from_dict(spec)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        for operation in operations:
            _fuzz(client, operation, auth)


def _fuzz(client: TestClient, operation: Any, auth: dict[str, str]) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        headers = {**kwargs.pop("headers", {}), **auth}
        kwargs.pop("cookies", None)
        response = client.request(headers=headers, **kwargs)
        case.validate_response(response, checks=CHECKS)

    run()


def test_openapi_documents_how_to_authenticate(tmp_path: Path) -> None:
    with TestClient(create_app(world_settings(tmp_path))) as client:
        spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == {"BearerToken", "ApiKey", "SessionCookie", "DeviceToken"}
    assert schemes["ApiKey"] == schemes["ApiKey"] | {"in": "header", "name": "X-API-Key"}
    assert schemes["BearerToken"]["bearerFormat"] == "JWT"
    people = [{"BearerToken": []}, {"ApiKey": []}, {"SessionCookie": []}]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path in ("/healthz", "/api/v1/auth/login"):
                assert "security" not in operation, path
            elif path.startswith(("/ngsi-ld/", "/api/v1/observations")):
                assert operation["security"] == [{"DeviceToken": []}], path
            else:
                assert operation["security"] == people, (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
