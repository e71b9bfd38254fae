"""The ingest service's OpenAPI 3 description, written by hand to match `docs/api.md`."""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse

from retour.models import COMMENT_MAX_LENGTH, IMPRESSION_EVENTS, KINDS, PROCEDURE_ID_PATTERN


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json_body(schema: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "required": True,
        # text/plain carries the same JSON: it spares browsers a CORS preflight.
        "content": {"application/json": {"schema": ref}, "text/plain": {"schema": ref}},
    }


ERRORS: Final = {
    "400": _error("Malformed JSON, or not a JSON object."),
    "403": _error("Form token forged, expired or made for another procedure."),
    "404": _error("Unknown or archived procedure."),
    "413": _error("Body over 16 KiB."),
    "415": _error("Content type other than application/json or text/plain."),
    "422": _error("A field is missing or invalid; `field` names it."),
    "429": {
        **_error("Rate limited."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
    "503": _error("The database refused the write; nothing stored, retry as is."),
}

IMPRESSION_ERRORS: Final = ("400", "404", "413", "415", "422", "429", "503")
PROCEDURE_ID: Final = {"type": "string", "pattern": PROCEDURE_ID_PATTERN, "maxLength": 64}

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
    "Submission": {
        "type": "object",
        "required": ["procedure_id", "token", "client_id", "satisfaction"],
        "properties": {
            "procedure_id": PROCEDURE_ID,
            "token": {"type": "string", "maxLength": 512},
            "client_id": {"type": "string", "format": "uuid"},
            "satisfaction": {"type": "integer", "enum": [1, 2, 3]},
            "kind": {"type": ["string", "null"], "enum": [*KINDS, None]},
            "comment": {"type": ["string", "null"], "maxLength": COMMENT_MAX_LENGTH},
            "contact_email": {"type": ["string", "null"], "format": "email", "maxLength": 254},
            "page_url": {"type": ["string", "null"], "format": "uri", "maxLength": 2000},
            "locale": {"type": "string", "enum": ["fr", "en"]},
            "website": {"type": "string", "description": "honeypot: leave empty"},
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["id", "receipt"],
        "properties": {
            "id": {"type": "integer"},
            "receipt": {"type": "string", "pattern": "^[0-9A-Z]{5}-[0-9A-Z]{5}$"},
        },
    },
    "Impression": {
        "type": "object",
        "required": ["procedure_id", "event", "page_url"],
        "properties": {
            "procedure_id": PROCEDURE_ID,
            "event": {"type": "string", "enum": list(IMPRESSION_EVENTS)},
            "page_url": {"type": "string", "format": "uri", "maxLength": 2000},
        },
    },
    "Choice": {
        "type": "object",
        "required": ["value", "label"],
        "properties": {"value": {"type": ["integer", "string"]}, "label": {"type": "string"}},
    },
    "FormConfig": {
        "type": "object",
        "required": ["procedure_id", "title", "button_label", "locale", "labels", "token"],
        "properties": {
            "procedure_id": {"type": "string"},
            "title": {"type": "string"},
            "button_label": {"type": "string"},
            "locale": {"type": "string", "enum": ["fr", "en"]},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "satisfaction": {"type": "array", "items": {"$ref": "#/components/schemas/Choice"}},
            "kinds": {"type": "array", "items": {"$ref": "#/components/schemas/Choice"}},
            "comment_max_length": {"type": "integer"},
            "token": {"type": "string"},
            "token_max_age": {"type": "integer", "description": "seconds"},
        },
    },
}

SPEC: Final[dict[str, Any]] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Je fais un retour — ingest",
        "version": "1",
        "description": "Feedback submissions and button impressions. See docs/api.md.",
    },
    "paths": {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "responses": {"200": {"description": "Alive."}},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "responses": {"200": {"description": "This description."}},
            }
        },
        "/api/v1/procedures/{procedure_id}/form": {
            "get": {
                "operationId": "formConfig",
                "summary": "Labels and a signed token (valid 2 hours) for one procedure's dialog.",
                "parameters": [
                    {
                        "name": "procedure_id",
                        "in": "path",
                        "required": True,
                        "schema": PROCEDURE_ID,
                    },
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["fr", "en"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The dialog's configuration.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/FormConfig"}
                            }
                        },
                    },
                    "404": ERRORS["404"],
                },
            }
        },
        "/api/v1/feedback": {
            "post": {
                "operationId": "submitFeedback",
                "summary": "One submission; 202 only once it is committed.",
                "requestBody": _json_body("Submission"),
                "responses": {
                    "202": {
                        "description": "Stored (or already stored under this client_id).",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Accepted"}
                            }
                        },
                    },
                    **ERRORS,
                },
            }
        },
        "/api/v1/impressions": {
            "post": {
                "operationId": "countImpression",
                "summary": "The button was shown or opened; counted per procedure, day and origin.",
                "requestBody": _json_body("Impression"),
                "responses": {
                    "204": {"description": "Counted."},
                    **{
                        code: ERRORS[code]
                        for code in ("400", "404", "413", "415", "422", "429", "503")
                    },
                },
            }
        },
    },
    "components": {"schemas": SCHEMAS},
}


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(SPEC)
