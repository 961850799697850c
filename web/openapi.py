"""The OpenAPI description of the JSON API, kept beside the code it describes."""
from __future__ import annotations

from jisr.answers.query import DEFAULT_K, DEFAULT_LANG, DEFAULT_MODE, LANGS, MAX_K, MAX_QUERY_CHARS, MODES


def spec() -> dict:
    error = {"$ref": "#/components/schemas/Error"}
    # Some character that is not white space, as str.isspace reads it (the query is stripped).
    query = {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS, "pattern": r"\S"}
    params = [
        {"name": "q", "in": "query", "required": True, "description": "English or Arabic query",
         "schema": query},
        {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K}},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGS), "default": DEFAULT_LANG}},
        {"name": "mode", "in": "query", "schema": {"type": "string", "enum": list(MODES), "default": DEFAULT_MODE}},
    ]
    responses = {
        "200": {"description": "ranked passages", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResponse"}}}},
        "400": {"description": "invalid request", "content": {"application/json": {"schema": error}}},
        "413": {"description": "request body too large", "content": {"application/json": {"schema": error}}},
        "503": {"description": "no index has been built, or the server is busy: retry after the seconds in "
                               "Retry-After", "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": error}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "jisr", "version": "0.1.0",
                 "description": "Cross-lingual search: English or Arabic questions, ranked Arabic passages."},
        "paths": {
            "/api/search": {
                "get": {"summary": "Search", "parameters": params, "responses": responses},
                "post": {"summary": "Search (JSON body)", "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}}}},
                    "responses": responses},
            },
            "/api/doc/{doc_id}": {"get": {
                "summary": "A whole document: its passages in reading order",
                "parameters": [{"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "a result's doc_id, URL-encoded"}],
                "responses": {
                    "200": {"description": "the document", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/DocumentView"}}}},
                    "404": {"description": "no such document", "content": {"application/json": {"schema": error}}},
                    "503": {"description": "no index has been built", "content": {"application/json": {
                        "schema": error}}}}}},
            "/healthz": {"get": {"summary": "Readiness: index size, model and the search queue", "responses": {
                "200": {"description": "ready", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Health"}}}},
                "503": {"description": "no index", "content": {"application/json": {"schema": error}}}}}},
        },
        "components": {"schemas": {
            "SearchRequest": {"type": "object", "required": ["q"], "properties": {
                "q": query,
                "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
                "lang": {"type": "string", "enum": list(LANGS)},
                "mode": {"type": "string", "enum": list(MODES)}}},
            "SearchResponse": {"type": "object", "properties": {
                "query": {"type": "string"}, "model": {"type": "string"}, "mode": {"type": "string"},
                "lang": {"type": "string"}, "k": {"type": "integer"}, "took_ms": {"type": "number"},
                "query_tokens": {"type": "integer", "description": "the query's length in the model's tokens"},
                "truncated": {"type": "object", "description": "present when the query was longer than the "
                              "server's token budget: the text that was searched, and a message",
                              "properties": {"read": {"type": "string"}, "message": {"type": "string"}}},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}},
            "Result": {"type": "object", "properties": {
                "rank": {"type": "integer"}, "score": {"type": "number"}, "title": {"type": "string"},
                "source": {"type": "string"}, "doc_id": {"type": "string"}, "ordinal": {"type": "integer"},
                "start": {"type": "integer"}, "end": {"type": "integer"}, "lang": {"type": "string"},
                "locator": {"$ref": "#/components/schemas/Locator"}, "text": {"type": "string"},
                "highlight": {"type": "object", "description": "best-matching sentence, offsets into text",
                              "properties": {"start": {"type": "integer"}, "end": {"type": "integer"},
                                             "text": {"type": "string"}}}}},
            "DocumentView": {"type": "object", "required": ["doc_id", "title", "source", "passages"], "properties": {
                "doc_id": {"type": "string"}, "title": {"type": "string"}, "source": {"type": "string"},
                "passages": {"type": "array", "items": {"type": "object", "properties": {
                    "ordinal": {"type": "integer"}, "start": {"type": "integer"}, "end": {"type": "integer"},
                    "lang": {"type": "string"}, "locator": {"$ref": "#/components/schemas/Locator"},
                    "text": {"type": "string"}}}}}},
            "Locator": {"type": "object", "description": "where the passage lies in its file: the PDF page, "
                        "the heading path (Markdown, HTML, Word), or the record id (JSONL, CSV); empty for "
                        "plain text", "properties": {
                            "page": {"type": "integer", "minimum": 1},
                            "section": {"type": "array", "items": {"type": "string"}},
                            "record": {"type": "string"}}},
            "Health": {"type": "object", "required": ["status", "ready", "queue"], "properties": {
                "status": {"type": "string"}, "ready": {"type": "boolean"}, "passages": {"type": "integer"},
                "documents": {"type": "integer"}, "model": {"type": "string"}, "index_type": {"type": "string"},
                "built_at": {"type": "string"},
                "generation": {"type": "integer", "description": "the commit searched: it grows with each build "
                               "the server has swapped in (within a second of the build's commit)"},
                "queue": {"type": "object", "description": "searches running and waiting for the encoder, "
                          "the limits, and how many were refused with 503 since the server started",
                          "properties": {k: {"type": "integer"} for k in
                                         ("running", "waiting", "max_running", "depth", "refused")}
                          | {"wait_s": {"type": "number"}}}}},
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"}}},
        }},
    }
