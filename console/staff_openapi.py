"""The staff API's OpenAPI 3.1 description, written by hand to match `docs/api.md`."""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse

from retour.models import KINDS, RECORDED_CHANNELS, SATISFACTION_LEVELS, STATUSES


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": _json(schema)}


READ_ERRORS: Final = {
    "401": _error("No key, or an unknown or revoked one."),
    "404": _error("No such submission, or another ministry's."),
    "422": _error("A parameter is invalid; `field` names it."),
    "429": {
        **_error("Too many requests for this key."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}
WRITE_ERRORS: Final = {
    **READ_ERRORS,
    "400": _error("The body is not a JSON object."),
    "403": _error("The key is read-only."),
    "413": _error("Body over 64 KiB."),
    "415": _error("Content type other than application/json."),
}
ID_PARAMETER: Final = {
    "name": "feedback_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
TIME: Final = {"type": ["string", "null"], "format": "date-time"}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


FILTERS: Final = [
    _query("procedure", {"type": "string", "maxLength": 64}, "One procedure's id."),
    _query("status", {"type": "string", "enum": list(STATUSES)}, "One status."),
    _query("kind", {"type": "string", "enum": list(KINDS)}, "One kind."),
    _query("rating", {"type": "integer", "enum": list(SATISFACTION_LEVELS)}, "1, 2 or 3."),
    _query("from", {"type": "string", "format": "date"}, "Received on or after (Paris)."),
    _query("to", {"type": "string", "format": "date"}, "Received on or before (Paris)."),
    _query("comment", {"type": "string", "enum": ["with", "without"]}, "With a comment or not."),
    _query("unregistered", {"type": "string", "enum": ["1"]}, "From unregistered origins."),
    _query("pii", {"type": "string"}, "`any`, or one category of masked personal data."),
    _query("spam", {"type": "string", "enum": ["1"]}, "Spam and honeypot instead."),
    _query("q", {"type": "string", "maxLength": 200}, "Full-text search in comments."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (50)."),
    _query("after", {"type": "string", "maxLength": 60}, "The previous page's `next`."),
]

SCHEMAS: Final[dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                },
            }
        },
    },
    "Feedback": {
        "type": "object",
        "required": ["id", "procedure_id", "received_at", "satisfaction", "status", "comment"],
        "properties": {
            "id": {"type": "integer"},
            "procedure_id": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "channel": {"type": "string"},
            "satisfaction": {"type": "integer", "enum": list(SATISFACTION_LEVELS)},
            "kind": {"type": ["string", "null"]},
            "comment": {"type": "string", "description": "as stored: personal data masked"},
            "pii_categories": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": list(STATUSES)},
            "page_url": {"type": ["string", "null"]},
            "origin_registered": {"type": "boolean"},
            "locale": {"type": "string"},
            "wants_answer": {"type": "boolean"},
            "acknowledged_at": TIME,
            "updated_at": TIME,
        },
    },
    "Page": {
        "type": "object",
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Feedback"}},
            "next": {"type": ["string", "null"]},
        },
    },
    "FeedbackDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Feedback"},
            {
                "type": "object",
                "properties": {
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "allowed_statuses": {"type": "array", "items": {"type": "string"}},
                    "notes": {"type": "array", "items": {"$ref": "#/components/schemas/Note"}},
                    "answer": {
                        "oneOf": [{"$ref": "#/components/schemas/Answer"}, {"type": "null"}]
                    },
                    "history": {"type": "array", "items": {"type": "object"}},
                },
            },
        ]
    },
    "Note": {
        "type": "object",
        "required": ["id", "body", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "author": {"type": ["string", "null"]},
            "body": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Answer": {
        "type": "object",
        "required": ["body", "published_at"],
        "properties": {
            "body": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
        },
    },
    "RecordedFeedback": {
        "type": "object",
        "required": ["procedure_id", "channel", "satisfaction", "received_at"],
        "properties": {
            "procedure_id": {"type": "string", "maxLength": 64},
            "channel": {"type": "string", "enum": list(RECORDED_CHANNELS)},
            "satisfaction": {"type": "integer", "enum": list(SATISFACTION_LEVELS)},
            "received_at": {"type": "string", "format": "date-time"},
            "kind": {"type": ["string", "null"], "enum": [*KINDS, None]},
            "comment": {"type": ["string", "null"], "maxLength": 2000},
            "contact_email": {"type": ["string", "null"], "format": "email", "maxLength": 254},
            "client_id": {"type": ["string", "null"], "format": "uuid"},
        },
    },
    "StatusChange": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": list(STATUSES)}},
    },
    "Text": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 5000}},
    },
}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


SPEC: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Je fais un retour — staff API",
        "version": "1",
        "description": "Ministries' tools read and triage their submissions. See docs/api.md.",
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"key": []}],
    "paths": {
        "/api/v1/staff/openapi.json": {
            "get": {
                "operationId": "staffOpenapi",
                "security": [],
                "responses": {"200": {"description": "This description."}},
            }
        },
        "/api/v1/staff/feedback": {
            "get": {
                "operationId": "listFeedback",
                "summary": "The key's ministry's inbox, newest first, one page.",
                "parameters": FILTERS,
                "responses": {"200": _ok("A page.", "Page"), **READ_ERRORS},
            },
            "post": {
                "operationId": "recordFeedback",
                "summary": "Feedback received at a counter, by phone, by post or France Services.",
                "requestBody": _body("RecordedFeedback"),
                "responses": {
                    "201": _ok("Stored.", "Feedback"),
                    "200": _ok("Already stored under this client_id.", "Feedback"),
                    **WRITE_ERRORS,
                },
            },
        },
        "/api/v1/staff/feedback/{feedback_id}": {
            "get": {
                "operationId": "readFeedback",
                "parameters": [ID_PARAMETER],
                "responses": {"200": _ok("One submission.", "FeedbackDetail"), **READ_ERRORS},
            }
        },
        "/api/v1/staff/feedback/{feedback_id}/status": {
            "post": {
                "operationId": "changeStatus",
                "parameters": [ID_PARAMETER],
                "requestBody": _body("StatusChange"),
                "responses": {
                    "200": _ok("Changed.", "Feedback"),
                    "409": _error("The workflow does not allow this change."),
                    **WRITE_ERRORS,
                },
            }
        },
        "/api/v1/staff/feedback/{feedback_id}/notes": {
            "post": {
                "operationId": "addNote",
                "parameters": [ID_PARAMETER],
                "requestBody": _body("Text"),
                "responses": {"201": _ok("Added.", "Note"), **WRITE_ERRORS},
            }
        },
        "/api/v1/staff/feedback/{feedback_id}/answer": {
            "put": {
                "operationId": "publishAnswer",
                "summary": "Publish the public answer, or replace its text.",
                "parameters": [ID_PARAMETER],
                "requestBody": _body("Text"),
                "responses": {"200": _ok("Published.", "Answer"), **WRITE_ERRORS},
            }
        },
    },
}


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(SPEC)
