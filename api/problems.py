"""Errors as `application/problem+json` (RFC 9457): one exception type, one response shape."""

from __future__ import annotations

import json

from django.http import HttpResponse
from ninja import Schema

PROBLEM_TYPE = "about:blank"
MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
}


class Problem(Schema):
    type: str = PROBLEM_TYPE
    title: str
    status: int
    detail: str = ""
    codes: list[str] = []


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str = "", codes=(), headers=None):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.codes, self.headers = list(codes), dict(headers or {})


def problem_response(status: int, detail: str = "", codes=(), headers=None) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "codes": list(codes),
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def of(exc: ApiProblem) -> HttpResponse:
    return problem_response(exc.status, exc.detail, exc.codes, exc.headers)


# Every operation may answer these; each endpoint adds its own (404, 409, 422) to them.
COMMON = {400: Problem, 401: Problem, 403: Problem, 422: Problem, 429: Problem}


def responses(ok: dict, *extra: int) -> dict:
    return {**ok, **COMMON, **dict.fromkeys(extra, Problem)}
