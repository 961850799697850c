"""The OpenAPI description of the JSON API, kept beside the code it describes."""

from __future__ import annotations

from jisr.answers import filters
from jisr.answers.match import LEVELS
from jisr.answers.query import (
    DEFAULT_K,
    DEFAULT_LANG,
    DEFAULT_MODE,
    DEFAULT_PER_DOCUMENT,
    FACETS,
    GROUPS,
    LANGS,
    MAX_DEPTH,
    MAX_FACET_VALUES,
    MAX_K,
    MAX_PER_DOCUMENT,
    MAX_QUERY_CHARS,
    MODES,
)
from jisr.answers.suggestions import DEFAULT_LIMIT
from jisr.answers.suggestions import MAX_LIMIT as MAX_SUGGESTIONS


def spec() -> dict:
    error = {"$ref": "#/components/schemas/Error"}
    # Some character that is not white space as str.isspace reads it (the query is stripped): that is \s and
    # the separators \x1c-\x1f and \x85, which ECMA's \s lacks.
    query = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_QUERY_CHARS,
        "pattern": r"[^\s\x1c-\x1f\x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    }
    facets = {"type": "array", "items": {"type": "string", "enum": list(FACETS)}, "uniqueItems": True}
    level = {
        "type": "string",
        "enum": list(LEVELS),
        "nullable": True,
        "description": "strong, weak or none: how well it matches, by lines drawn on labeled questions with and "
        "without an answer; null when the index's models were never calibrated",
    }
    params = [
        {"name": "q", "in": "query", "required": True, "description": "English or Arabic query", "schema": query},
        {
            "name": "k",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K},
        },
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGS), "default": DEFAULT_LANG}},
        {"name": "mode", "in": "query", "schema": {"type": "string", "enum": list(MODES), "default": DEFAULT_MODE}},
        {
            "name": "offset",
            "in": "query",
            "description": f"skip this many results (a next page); pages end at rank {MAX_DEPTH}",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_DEPTH - 1, "default": 0},
        },
        {
            "name": "group",
            "in": "query",
            "description": "document: each document's best passage once, with more from it under `more`",
            "schema": {"type": "string", "enum": list(GROUPS), "default": "none"},
        },
        {
            "name": "filter",
            "in": "query",
            "description": 'JSON: only passages it keeps, e.g. {"collection": '
            '"hadith"}, {"source": {"prefix": "news/2015/"}}, {"doc_id": [...]}, {"lang": "ar"}; filters combine '
            'as {"any": [...]}, {"all": [...]}, {"not": {...}}',
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Filter"}}},
        },
        {
            "name": "per_document",
            "in": "query",
            "description": "with group=document, passages under `more`",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PER_DOCUMENT, "default": DEFAULT_PER_DOCUMENT},
        },
        {
            "name": "facets",
            "in": "query",
            "description": "fields whose values are counted over the matches, "
            "separated by commas, e.g. collection,lang",
            "style": "form",
            "explode": False,
            "schema": facets,
        },
        {
            "name": "as_typed",
            "in": "query",
            "description": "search the query as typed, never as Arabic typed on the Latin keyboard layout "
            "or in Arabizi",
            "schema": {"type": "boolean", "default": False},
        },
    ]
    responses = {
        "200": {
            "description": "ranked passages",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResponse"}}},
        },
        "400": {"description": "invalid request", "content": {"application/json": {"schema": error}}},
        "413": {"description": "request body too large", "content": {"application/json": {"schema": error}}},
        "503": {
            "description": "no index has been built, or the server is busy: retry after the seconds in Retry-After",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": error}},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "jisr",
            "version": "0.1.0",
            "description": "Cross-lingual search: English or Arabic questions, ranked Arabic passages.",
        },
        "paths": {
            "/api/search": {
                "get": {"summary": "Search", "parameters": params, "responses": responses},
                "post": {
                    "summary": "Search (JSON body)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}}},
                    },
                    "responses": responses,
                },
            },
            "/api/doc/{doc_id}": {
                "get": {
                    "summary": "A whole document: its passages in reading order",
                    "parameters": [
                        {
                            "name": "doc_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "a result's doc_id, URL-encoded",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the document",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DocumentView"}}},
                        },
                        "404": {"description": "no such document", "content": {"application/json": {"schema": error}}},
                        "503": {
                            "description": "no index has been built",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/api/suggest": _suggest_paths(error, query),
            "/api/documents/{doc_id}": _document_paths(error),
            "/api/documents": {
                "post": {
                    "summary": "Add or replace many documents: one JSON object per line (JSONL)",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-ndjson": {
                                "schema": {
                                    "type": "string",
                                    "description": 'UTF-8 lines of {"id": ..., "title": ..., "text": ..., '
                                    '"fields": {...}}; a line that is not a document (or not '
                                    "UTF-8) is reported",
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "every document committed, durable and searched (in parts of at most "
                            "JISR_BULK_COMMIT_DOCUMENTS, other writes in between); the lines that "
                            "are not documents reported",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BulkResult"}}},
                        },
                        "207": {
                            "description": "some documents committed and some not (a commit failed, or the server "
                            "is stopping): each line's status under items",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BulkResult"}}},
                        },
                        **_write_errors(error, "no line of the body is a document"),
                        "413": {
                            "description": "the body is larger than JISR_MAX_DOCUMENT_BYTES, or holds more lines "
                            "than JISR_BULK_MAX_LINES",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/api/snapshots": _snapshot_paths(error),
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics: requests and latency by endpoint and status, the "
                    "search and write queues, commits, documents, passages, the result cache",
                    "responses": {
                        "200": {
                            "description": "Prometheus' text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/api/settings": {
                "get": {
                    "summary": "The server's effective settings, as `jisr config --json` prints them (secrets masked)",
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": {
                            "description": "every setting by name",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Settings"}}},
                        },
                        "401": {
                            "description": "no 'Authorization: Bearer TOKEN' header",
                            "content": {"application/json": {"schema": error}},
                        },
                        "403": {
                            "description": "the token is not the server's API token, or the server has none",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Readiness: index size, model and the search queue",
                    "responses": {
                        "200": {
                            "description": "ready",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                        },
                        "503": {"description": "no index", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "SearchRequest": {
                    "type": "object",
                    "required": ["q"],
                    "additionalProperties": False,
                    "properties": {
                        "q": query,
                        "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
                        "lang": {"type": "string", "enum": list(LANGS)},
                        "mode": {"type": "string", "enum": list(MODES)},
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_DEPTH - 1},
                        "group": {"type": "string", "enum": list(GROUPS)},
                        "per_document": {"type": "integer", "minimum": 0, "maximum": MAX_PER_DOCUMENT},
                        "filter": {"$ref": "#/components/schemas/Filter"},
                        "facets": facets,
                        "as_typed": {"type": "boolean"},
                    },
                },
                "Filter": _filter_schema(),
                "SearchResponse": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "searched_as": {
                            "type": "string",
                            "description": "present when the query was searched as what it was meant to be (Arabic "
                            "typed on the Latin keyboard layout or in Arabizi, English typed on the Arabic layout); "
                            "as_typed=1 searches it as typed",
                        },
                        "typed": {"type": "string", "description": "with searched_as: the query as typed"},
                        "suggest": {
                            "type": "string",
                            "description": "did you mean: present when an Arabic word of the query is not in the "
                            "index and a frequent term is one edit or two slips from it; the query with that "
                            "word replaced (a query that matched nothing is searched as it instead: searched_as)",
                        },
                        "model": {"type": "string"},
                        "mode": {"type": "string"},
                        "lang": {"type": "string"},
                        "k": {"type": "integer"},
                        "took_ms": {"type": "number"},
                        "query_tokens": {"type": "integer", "description": "the query's length in the model's tokens"},
                        "cached": {
                            "type": "boolean",
                            "description": "present (true) when the answer came from the "
                            "server's cache of this commit's answers; took_ms is then the lookup's time",
                        },
                        "truncated": {
                            "type": "object",
                            "description": "present when the query was longer than the "
                            "server's token budget: the text that was searched, and a message",
                            "properties": {"read": {"type": "string"}, "message": {"type": "string"}},
                        },
                        "offset": {"type": "integer"},
                        "next_offset": {
                            "type": "integer",
                            "nullable": True,
                            "description": "the offset of the next page; null when this is the last",
                        },
                        "group": {"type": "string"},
                        "per_document": {"type": "integer"},
                        "filter": {"type": "object", "description": "the filter applied, when there was one"},
                        "match": level,
                        "total": {
                            "type": "object",
                            "nullable": True,
                            "description": "matches (results above the weak "
                            "line: passages, or documents when grouped); relation gte: at least this many",
                            "properties": {
                                "value": {"type": "integer"},
                                "relation": {"type": "string", "enum": ["eq", "gte"]},
                            },
                        },
                        "facets": {
                            "type": "object",
                            "description": "per field asked for: its values' counts over the "
                            f"matches, the most first (at most {MAX_FACET_VALUES})",
                            "additionalProperties": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "value": {"description": "text, or a number for a number field"},
                                        "count": {"type": "integer"},
                                    },
                                },
                            },
                        },
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                    },
                },
                "Result": {
                    "type": "object",
                    "properties": {
                        "rank": {"type": "integer"},
                        "score": {"type": "number"},
                        "title": {"type": "string"},
                        "source": {"type": "string"},
                        "doc_id": {"type": "string"},
                        "ordinal": {"type": "integer"},
                        "start": {"type": "integer"},
                        "end": {"type": "integer"},
                        "lang": {"type": "string"},
                        "locator": {"$ref": "#/components/schemas/Locator"},
                        "text": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "description": "the document's fields declared with `jisr build --field` "
                            "(a date as YYYY-MM-DD)",
                        },
                        "highlight": {
                            "type": "object",
                            "description": "best-matching sentence, offsets into text",
                            "properties": {
                                "start": {"type": "integer"},
                                "end": {"type": "integer"},
                                "text": {"type": "string"},
                            },
                        },
                        "match": level,
                        "marks": {
                            "type": "array",
                            "description": "[start, end] offsets into text of the words that match "
                            "the query's words (marks, alef forms and stems folded; common words left out)",
                            "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                        },
                        "more": {
                            "type": "array",
                            "description": "with group=document: the document's next best passages",
                            "items": {"$ref": "#/components/schemas/Result"},
                        },
                    },
                },
                "Suggestions": {
                    "type": "object",
                    "required": ["q", "prefix", "suggestions", "titles"],
                    "properties": {
                        "q": {"type": "string", "description": "the text as typed"},
                        "prefix": {
                            "type": "string",
                            "description": "its last word as the index folds its terms (marks, hamza and alef forms, "
                            "ta marbuta, case): what the terms begin with; empty after a space",
                        },
                        "suggestions": {
                            "type": "array",
                            "description": "most frequent first",
                            "items": {
                                "type": "object",
                                "required": ["text", "term", "count"],
                                "properties": {
                                    "text": {"type": "string", "description": "q with its last word completed"},
                                    "term": {"type": "string", "description": "the index's term, folded"},
                                    "count": {"type": "integer", "description": "passages that hold it"},
                                },
                            },
                        },
                        "titles": {
                            "type": "array",
                            "description": "documents' titles that begin with q (folded the same way), those most "
                            "documents bear first",
                            "items": {
                                "type": "object",
                                "required": ["title", "count"],
                                "properties": {
                                    "title": {"type": "string", "description": "as most of its documents spell it"},
                                    "count": {"type": "integer", "description": "documents that bear it"},
                                },
                            },
                        },
                    },
                },
                "DocumentView": {
                    "type": "object",
                    "required": ["doc_id", "title", "source", "passages"],
                    "properties": {
                        "doc_id": {"type": "string"},
                        "title": {"type": "string"},
                        "source": {"type": "string"},
                        "passages": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "ordinal": {"type": "integer"},
                                    "start": {"type": "integer"},
                                    "end": {"type": "integer"},
                                    "lang": {"type": "string"},
                                    "locator": {"$ref": "#/components/schemas/Locator"},
                                    "text": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "Locator": {
                    "type": "object",
                    "description": "where the passage lies in its file: the PDF page, "
                    "the heading path (Markdown, HTML, Word), or the record id (JSONL, CSV); empty for "
                    "plain text",
                    "properties": {
                        "page": {"type": "integer", "minimum": 1},
                        "section": {"type": "array", "items": {"type": "string"}},
                        "record": {"type": "string"},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "ready", "queue"],
                    "properties": {
                        "status": {"type": "string"},
                        "ready": {"type": "boolean"},
                        "passages": {"type": "integer"},
                        "documents": {"type": "integer"},
                        "model": {"type": "string"},
                        "index_type": {"type": "string"},
                        "built_at": {"type": "string"},
                        "generation": {
                            "type": "integer",
                            "description": "the commit searched: it grows with each build "
                            "the server has swapped in (within a second of the build's commit)",
                        },
                        "queue": {
                            "type": "object",
                            "description": "searches running and waiting for the encoder, "
                            "the limits, and how many were refused with 503 since the server started",
                            "properties": {
                                k: {"type": "integer"}
                                for k in ("running", "waiting", "max_running", "depth", "refused")
                            }
                            | {"wait_s": {"type": "number"}},
                        },
                    },
                },
                "Document": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "title": {"type": "string"},
                        "text": {"type": "string", "minLength": 1},
                        "fields": {"type": "object", "description": "kept with the document"},
                    },
                },
                "WriteResult": {
                    "type": "object",
                    "required": ["id", "result", "generation"],
                    "properties": {
                        "id": {"type": "string"},
                        "result": {"type": "string", "enum": ["created", "replaced", "deleted"]},
                        "generation": {"type": "integer", "description": "the commit that holds the write"},
                    },
                },
                "BulkResult": {
                    "type": "object",
                    "properties": {
                        "loaded": {"type": "integer", "description": "documents committed"},
                        "failed": {
                            "type": "integer",
                            "description": "lines not loaded: not documents, or not committed",
                        },
                        "not_committed": {"type": "integer", "description": "documents not committed: send them again"},
                        "generation": {
                            "type": "integer",
                            "nullable": True,
                            "description": "the last commit that holds some",
                        },
                        "commits": {"type": "array", "items": {"type": "integer"}},
                        "errors": {
                            "type": "array",
                            "description": "the first 100 lines not loaded",
                            "items": {
                                "type": "object",
                                "properties": {"line": {"type": "integer"}, "message": {"type": "string"}},
                            },
                        },
                        "items": {
                            "type": "array",
                            "description": "every line that holds something, in order",
                            "items": {
                                "type": "object",
                                "required": ["line", "status"],
                                "properties": {
                                    "line": {"type": "integer"},
                                    "id": {"type": "string"},
                                    "status": {
                                        "type": "integer",
                                        "description": "201 created, 200 replaced, 400 not a "
                                        "document, 5xx not committed",
                                    },
                                    "result": {"type": "string", "enum": ["created", "replaced"]},
                                    "generation": {"type": "integer"},
                                    "error": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "Settings": {
                    "type": "object",
                    "required": ["settings"],
                    "properties": {
                        "settings": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {
                                    "value": {"description": "in the unit given; a secret is masked"},
                                    "unit": {"type": "string"},
                                    "source": {
                                        "type": "string",
                                        "description": "default, env NAME, file PATH, command line, or "
                                        "create_app config",
                                    },
                                    "group": {"type": "string"},
                                    "env": {"type": "array", "items": {"type": "string"}},
                                    "help": {"type": "string"},
                                },
                            },
                        }
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the server's API token (JISR_API_TOKEN or --api-token-file) for writes; "
                    "its read token, when it "
                    "has one (--read-token-file), for reads",
                }
            },
        },
    }


def _write_errors(error: dict, bad: str) -> dict:
    """The answers every write may get besides its success."""
    json_error = {"application/json": {"schema": error}}
    return {
        "400": {"description": bad, "content": json_error},
        "401": {"description": "no 'Authorization: Bearer TOKEN' header", "content": json_error},
        "403": {
            "description": "writes are turned off (no API token configured), or the token is wrong",
            "content": json_error,
        },
        "413": {"description": "the body is larger than JISR_MAX_DOCUMENT_BYTES", "content": json_error},
        "500": {"description": "the commit failed: nothing of the write was kept", "content": json_error},
        "503": {
            "description": "no index yet, too many writes waiting (Retry-After), another build holding the "
            "index's lock past JISR_WRITER_LOCK_WAIT (Retry-After), or the commit did not "
            "finish in time",
            "content": json_error,
        },
        "507": {
            "description": "the disk that holds the index is full: nothing of the write was kept, the last "
            "commit is still searched; send it again once space is freed",
            "content": json_error,
        },
    }


def _suggest_paths(error: dict, query: dict) -> dict:
    return {
        "get": {
            "summary": "Terms of the index that complete the word being typed, and titles that begin with it",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "description": "the text typed so far", "schema": query},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SUGGESTIONS, "default": DEFAULT_LIMIT},
                },
            ],
            "responses": {
                "200": {
                    "description": "the suggestions",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Suggestions"}}},
                },
                "400": {
                    "description": "q empty or too long, or limit not a whole number in range",
                    "content": {"application/json": {"schema": error}},
                },
                "503": {"description": "no index has been built", "content": {"application/json": {"schema": error}}},
            },
        }
    }


def _document_paths(error: dict) -> dict:
    json_error = {"application/json": {"schema": error}}
    doc_id = [
        {
            "name": "doc_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "maxLength": 512},
            "description": "the document's id, URL-encoded UTF-8 (other bytes are a 400); it may hold '/'. "
            "Ids are kept in Unicode's NFC: the NFC and NFD spellings of a name are one document",
        }
    ]
    written = {"application/json": {"schema": {"$ref": "#/components/schemas/WriteResult"}}}
    conflict = {
        "description": "the id is a file of the corpus folder, which only the folder changes",
        "content": json_error,
    }
    return {
        "get": {
            "summary": "A whole document: its passages in reading order (as /api/doc/{doc_id})",
            "parameters": doc_id,
            "responses": {
                "200": {
                    "description": "the document",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DocumentView"}}},
                },
                "400": {"description": "the id is not UTF-8", "content": json_error},
                "404": {"description": "no such document", "content": json_error},
            },
        },
        "put": {
            "summary": "Add or replace a document; answered once its commit is durable and searched",
            "parameters": doc_id,
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Document"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {
                                    "type": "string",
                                    "format": "binary",
                                    "description": "a file of a type the readers know "
                                    "(.txt .md .html .docx .pdf .jsonl .csv .tsv)",
                                }
                            },
                        }
                    },
                },
            },
            "responses": {
                "201": {"description": "created", "content": written},
                "200": {"description": "replaced", "content": written},
                "409": conflict,
                **_write_errors(error, "not a document (the message says why)"),
                "413": {
                    "description": "the body is larger than JISR_MAX_DOCUMENT_BYTES, or the "
                    "uploaded archive (.docx) inflates past max_inflated_bytes or "
                    "max_inflation_ratio (the message names which): nothing is "
                    "stored",
                    "content": json_error,
                },
                "422": {
                    "description": "the uploaded file holds no text to index (an empty, blank or "
                    "damaged file, a PDF without a text layer); the message says "
                    "why and nothing is stored",
                    "content": json_error,
                },
            },
        },
        "delete": {
            "summary": "Delete a document sent over the API",
            "parameters": doc_id,
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "deleted", "content": written},
                "404": {"description": "no document of that id was sent", "content": json_error},
                "409": conflict,
                **_write_errors(error, "not a document id"),
            },
        },
    }


def _snapshot_paths(error: dict) -> dict:
    """POST takes a snapshot of the live commit into INDEX/snapshots/ (jisr.index.snapshot); GET lists them."""
    json_error = {"application/json": {"schema": error}}
    kept = {
        "type": "array",
        "description": "the snapshots kept, oldest first (the snapshot_keep setting)",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "generation": {"type": "integer"},
                "taken": {"type": "string", "description": "when, in UTC"},
            },
        },
    }
    refused = {
        "401": {"description": "no 'Authorization: Bearer TOKEN' header", "content": json_error},
        "403": {
            "description": "writes are turned off (no API token configured), or the token is wrong",
            "content": json_error,
        },
        "503": {
            "description": "no index yet, or another build held the index's lock past "
            "JISR_WRITER_LOCK_WAIT (Retry-After)",
            "content": json_error,
        },
    }
    return {
        "get": {
            "summary": "The snapshots the server keeps of its index",
            "security": [{"bearer": []}],
            "responses": {
                "200": {
                    "description": "the snapshots",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {"snapshots": kept}}}},
                },
                **refused,
            },
        },
        "post": {
            "summary": "Take a snapshot of the live commit while the index is served and written to; the "
            "oldest beyond JISR_SNAPSHOT_KEEP are removed",
            "security": [{"bearer": []}],
            "responses": {
                "201": {
                    "description": "taken and on the disk: `jisr restore INDEX/snapshots/NAME --index "
                    "INDEX` makes it the live commit",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "snapshot": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "generation": {"type": "integer"},
                                            "files": {"type": "integer"},
                                            "linked": {"type": "integer"},
                                            "copied_bytes": {"type": "integer"},
                                            "seconds": {"type": "number"},
                                            "note": {
                                                "type": "string",
                                                "description": "what it does "
                                                "not hold (an index on Milvus: its collection)",
                                            },
                                        },
                                    },
                                    "snapshots": kept,
                                },
                            }
                        }
                    },
                },
                "500": {
                    "description": "the snapshot could not be written; the index is unchanged",
                    "content": json_error,
                },
                "507": {"description": "the disk is full; the index is unchanged", "content": json_error},
                **refused,
            },
        },
    }


def _filter_schema() -> dict:
    """A filter's fields (jisr.answers.filters); any, all and not combine filters, as the description says."""
    text = {"type": "string", "maxLength": filters.MAX_TEXT}
    value = {
        "oneOf": [
            text,
            {"type": "array", "items": text, "minItems": 1, "maxItems": filters.MAX_LIST},
            {"type": "object", "required": ["prefix"], "additionalProperties": False, "properties": {"prefix": text}},
        ]
    }
    return {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "description": "fields a passage must have; also any/all (lists of filters) and not (a filter)",
        "properties": {field: value for field in ("collection", "source", "doc_id", "lang")},
    }
