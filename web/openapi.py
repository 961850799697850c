"""The OpenAPI description of the JSON API, kept beside the code it describes."""
from __future__ import annotations

from search.query import DEFAULT_K, DEFAULT_LANG, DEFAULT_MODE, LANGS, MAX_K, MAX_QUERY_CHARS, MODES


def spec() -> dict:
    error = {"$ref": "#/components/schemas/Error"}
    params = [
        {"name": "q", "in": "query", "required": True, "description": "English or Arabic query",
         "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}},
        {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K}},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGS), "default": DEFAULT_LANG}},
        {"name": "mode", "in": "query", "schema": {"type": "string", "enum": list(MODES), "default": DEFAULT_MODE}},
    ]
    responses = {
        "200": {"description": "ranked passages", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResponse"}}}},
        "400": {"description": "invalid request", "content": {"application/json": {"schema": error}}},
        "413": {"description": "request body too large", "content": {"application/json": {"schema": error}}},
        "503": {"description": "no index has been built", "content": {"application/json": {"schema": error}}},
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
            "/healthz": {"get": {"summary": "Index size and model", "responses": {
                "200": {"description": "ready"}, "503": {"description": "no index", "content": {
                    "application/json": {"schema": error}}}}}},
        },
        "components": {"schemas": {
            "SearchRequest": {"type": "object", "required": ["q"], "properties": {
                "q": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS},
                "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
                "lang": {"type": "string", "enum": list(LANGS)},
                "mode": {"type": "string", "enum": list(MODES)}}},
            "SearchResponse": {"type": "object", "properties": {
                "query": {"type": "string"}, "model": {"type": "string"}, "mode": {"type": "string"},
                "lang": {"type": "string"}, "k": {"type": "integer"}, "took_ms": {"type": "number"},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}},
            "Result": {"type": "object", "properties": {
                "rank": {"type": "integer"}, "score": {"type": "number"}, "title": {"type": "string"},
                "source": {"type": "string"}, "doc_id": {"type": "string"}, "ordinal": {"type": "integer"},
                "start": {"type": "integer"}, "end": {"type": "integer"}, "lang": {"type": "string"},
                "text": {"type": "string"},
                "highlight": {"type": "object", "description": "best-matching sentence, offsets into text",
                              "properties": {"start": {"type": "integer"}, "end": {"type": "integer"},
                                             "text": {"type": "string"}}}}},
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"}}},
        }},
    }
