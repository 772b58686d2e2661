"""No input makes the served engine answer 500, or answer outside its OpenAPI document: schemathesis
generates requests from the document the server publishes (valid and invalid ones, a fixed number,
derandomized so every run sends the same) and checks every answer against it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.app import OPENAPI_PATH, VectorizeApp
from vectorize_nb.contract.models import Vectors

EXAMPLES = 10
"""Cases per operation and phase: 16 operations, a few hundred requests in all."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value) -> bytes:
    """The document describes an NDJSON body as the array of its lines; anything else goes as it is."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, list):
        return "\n".join(json.dumps(item) for item in value).encode()
    return json.dumps(value).encode()


def _docs(engine: LocalEngine) -> None:
    """The index the document's examples name, with a few vectors and a metadata index."""
    try:
        engine.get_index("docs")
    except errors.IndexNotFound:
        engine.create_index("docs", dimensions=32, metric="cosine")
        engine.create_metadata_index("docs", "genre", "string")
        values = np.random.default_rng(7).standard_normal((3, 32)).astype(np.float32)
        engine.upsert("docs", Vectors(["a", "b", "c"], values, [{"genre": "x"}, {"genre": "y"}, None]))


ENGINE = LocalEngine()
"""In memory, made at import: schemathesis builds its tests from the schema while collecting them."""
schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, VectorizeApp(ENGINE))
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none")
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(scope="module", autouse=True)
def engine():
    yield ENGINE
    ENGINE.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_a_server_error_or_an_answer_outside_the_document(case, engine):
    _docs(engine)  # the fuzzer deletes it now and then
    case.call_and_validate(checks=CHECKS)
