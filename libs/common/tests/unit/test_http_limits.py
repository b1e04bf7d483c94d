"""The limits create_app puts on every service's requests, on a small app (no lifespan: nothing to connect to)."""

import httpx
import pytest
from fastapi import APIRouter
from pydantic import AwareDatetime, ValidationError

from ecomops_common.contracts.types import STORABLE_JSON, TEXT_MAX_LENGTH, Document, storable_json
from ecomops_common.http import create_app
from ecomops_common.runtime import ServiceRuntime
from ecomops_common.settings import ServiceSettings

router = APIRouter()


class Note(Document):
    author: str
    text: str
    tags: list[str] = []
    due: AwareDatetime | None = None


@router.post("/notes/{note_id}")
async def post_note(note_id: str, note: Note, topic: str | None = None) -> dict[str, str]:
    return {"note_id": note_id, "author": note.author}


@pytest.fixture
async def client(tmp_path):
    settings = ServiceSettings(service_name="notes", data_dir=tmp_path, max_request_body_bytes=20_000)
    app = create_app(ServiceRuntime(settings), title="Notes", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notes") as client:
        yield client


async def test_a_body_over_the_limit_is_refused_with_413_whether_or_not_its_length_is_announced(client):
    body = b'{"author": "ana", "text": "' + b"x" * 30_000 + b'"}'
    announced = await client.post("/notes/1", content=body, headers={"content-type": "application/json"})
    assert announced.status_code == 413, announced.text
    assert announced.json() == {"detail": "request body larger than 20000 bytes"}

    async def chunks():  # no Content-Length: chunked, counted as it is read
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    streamed = await client.post("/notes/1", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413, streamed.text
    assert streamed.json() == {"detail": "request body larger than 20000 bytes"}

    within = await client.post("/notes/1", json={"author": "ana", "text": "x" * 9_000})
    assert within.status_code == 200, within.text


async def test_a_422_names_each_field_without_echoing_a_large_input(client):
    answer = await client.post("/notes/1", json={"text": "y" * 500, "tags": [1, "z" * 300]})
    assert answer.status_code == 422
    assert answer.json() == {"detail": [
        {"loc": ["body", "author"], "msg": "Field required", "type": "missing"},  # input: the whole body
        {"loc": ["body", "tags", 0], "msg": "Input should be a valid string", "type": "string_type", "input": 1},
    ]}
    too_long = (await client.post("/notes/1", json={"author": "a" * 10_001, "text": "t"})).json()["detail"]
    assert too_long == [{"loc": ["body", "author"], "msg": "String should have at most 10000 characters",
                         "type": "string_too_long", "ctx": {"max_length": 10_000}}]


@pytest.mark.parametrize(("request_kwargs", "loc"), [
    ({"url": "/notes/a%00b"}, ["path", "note_id"]),
    ({"url": "/notes/1?topic=x%00"}, ["query", "topic"]),
    ({"url": "/notes/1", "headers": {"x-actor": "ana\x00"}}, ["header", "x-actor"]),
    ({"url": "/notes/1", "json": {"author": "ana", "text": "nul \x00 byte"}}, ["body", "text"]),
    ({"url": "/notes/1", "json": {"author": "ana", "text": "t", "tags": ["ok", "\x00"]}}, ["body", "tags"]),
])
async def test_a_nul_character_anywhere_is_a_422_naming_where_it_is(client, request_kwargs, loc):
    answer = await client.post(**{"json": {"author": "ana", "text": "t"}, **request_kwargs})
    assert answer.status_code == 422, answer.text
    assert [(error["loc"], error["msg"], error["type"]) for error in answer.json()["detail"]] == [
        (loc, "must not contain the NUL character (\\u0000)", "string_nul")]


def test_documents_refuse_nul_and_strings_longer_than_the_default_bound_on_kafka_too():
    with pytest.raises(ValidationError, match="string_nul"):
        Note.model_validate_json('{"author": "ana", "text": "\\u0000"}')
    with pytest.raises(ValidationError, match="string_too_long"):
        Note.model_validate({"author": "ana", "text": "t" * (TEXT_MAX_LENGTH + 1)})
    assert Note.model_validate({"author": "ana", "text": "t" * TEXT_MAX_LENGTH}).author == "ana"


@pytest.mark.parametrize(("raw", "storable_error"), [
    ('{"author": "ana", "text": "line\\n \\"quoted\\" é"}', None),
    ('{"author": "ana", "text": "\\u0000"}', "string_nul"),
    ('{"author": "ana", "text": "\\u00e9 \\u0000"}', "string_nul"),
    ('{"author": "ana\\ud800", "text": "t"}', "json_invalid"),  # refused by the JSON parser itself
    ('{"author": "ana", "text": "t", "due": "9999-12-31T23:59:59-23:59"}', "datetime_utc_range"),
    ('{"author": "ana", "text": "t", "due": "0001-01-01T00:00:00+23:59"}', "datetime_utc_range"),
    ('{"author": "ana", "text": "t", "due": "2026-11-30T10:00:00+01:00"}', None),
])
def test_json_cleared_by_one_scan_skips_the_check_and_json_it_does_not_clear_is_still_refused(raw, storable_error):
    """storable_json() clears JSON text only when no value in it can be one PostgreSQL cannot store: the
    documents it clears validate as they would with the full check, the others get the full check."""
    context = storable_json(raw.encode())
    assert (context is STORABLE_JSON) == (storable_error is None)
    if storable_error is None:
        assert Note.model_validate_json(raw, context=context) == Note.model_validate_json(raw)
    else:
        with pytest.raises(ValidationError, match=storable_error):
            Note.model_validate_json(raw, context=context)


@pytest.mark.parametrize(("body", "loc", "error_type"), [
    # A lone surrogate is valid JSON but no Unicode character: UTF-8, so PostgreSQL and the 422 itself, cannot
    # carry it.
    ('{"author": "ana\\ud800", "text": "t"}', ["body", "author"], "string_unicode"),
    ('{"author": "ana", "text": "t", "tags": ["\\udfff"]}', ["body", "tags", 0], "string_unicode"),
    ('{"author": "ana", "text": "t", "extra": {"\\ud800": 1}}', None, None),
    # Valid ISO 8601 times whose UTC instant falls outside years 1 to 9999.
    ('{"author": "ana", "text": "t", "due": "9999-12-31T23:59:59-23:59"}', ["body", "due"], "datetime_utc_range"),
    ('{"author": "ana", "text": "t", "due": "0001-01-01T00:00:00+23:59"}', ["body", "due"], "datetime_utc_range"),
])
async def test_values_postgresql_cannot_store_are_a_422_naming_the_field(client, body, loc, error_type):
    answer = await client.post("/notes/1", content=body, headers={"content-type": "application/json"})
    if loc is None:  # an unknown field is ignored, whatever it holds
        assert answer.status_code == 200, answer.text
        return
    assert answer.status_code == 422, answer.text
    assert [(error["loc"], error["type"]) for error in answer.json()["detail"]] == [(loc, error_type)]
