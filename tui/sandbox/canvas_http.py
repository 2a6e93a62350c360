"""Canvas's API conventions, independent of any endpoint: error bodies, Rails-style parameters,
numeric pagination with its Link header, and `application/json+canvas-string-ids`
(reference §2). Every shape here is copied from Canvas, quirks included.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, quote_plus

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "ApiError",
    "Page",
    "bad_request",
    "bad_token",
    "canvas_json",
    "missing_parameter",
    "not_found",
    "paginate",
    "parse_rails_params",
    "permission_denied",
    "read_params",
    "ruby_to_i",
    "server_error_body",
    "stringify_ids",
    "unauthenticated",
    "value_to_boolean",
]

T = TypeVar("T")

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
STRING_IDS_MEDIA_TYPE = "application/json+canvas-string-ids"
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
# Never echoed into pagination links: a token in a URL ends up in logs (§2.1).
NOT_IN_LINKS = frozenset({"page", "per_page", "access_token", "api_key"})
LINK_RELS = ("current", "next", "prev", "first", "last")


class ApiError(Exception):
    """An answer that ends the request early: raised by endpoints, rendered by the app."""

    def __init__(self, status: int, body: Any, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> ApiError:
    return ApiError(404, {"errors": [{"message": "The specified resource does not exist."}]})


def permission_denied(status: int) -> ApiError:
    # 401 or 403 depending on Canvas's `api_auth_error_updates` flag (§2.3).
    body = {
        "status": "unauthorized",
        "errors": [{"message": "user not authorized to perform that action"}],
    }
    return ApiError(status, body)


def unauthenticated() -> ApiError:
    body = {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
    return ApiError(401, body, headers=WWW_AUTHENTICATE)


def bad_token(failure: str, failed_at: str | None) -> ApiError:
    """401 for a token Canvas does not accept: "Invalid", "Revoked" or "Expired"."""
    error: dict[str, Any] = {"message": f"{failure} access token."}
    if failure == "Expired":
        error["expired_at"] = failed_at
    return ApiError(401, {"errors": [error]}, headers=WWW_AUTHENTICATE)


def bad_request(message: str, status: int = 400) -> ApiError:
    """The moderation controllers' business errors: a bare {"message": …}."""
    return ApiError(status, {"message": message})


def missing_parameter(name: str) -> ApiError:
    return ApiError(400, {"errors": [{"message": f"{name} is missing"}]})


def server_error_body(error_report_id: int) -> dict[str, Any]:
    return {
        "errors": [{"message": "An error occurred.", "error_code": "internal_server_error"}],
        "error_report_id": error_report_id,
    }


# --- JSON -------------------------------------------------------------------------------

_ID_KEY = re.compile(r"(^|_)id$", re.IGNORECASE)
_IDS_KEY = re.compile(r"(^|_)ids$", re.IGNORECASE)


def _ruby_to_s(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stringify_ids(value: Any) -> Any:
    """lib/stringify_ids.rb: every `id`/`*_id` value and every `*_ids` element becomes a string,
    at any depth. Nulls stay null."""
    if isinstance(value, list):
        return [stringify_ids(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted: dict[str, Any] = {}
    for key, item in value.items():
        if _ID_KEY.search(key) and not isinstance(item, dict | list):
            converted[key] = _ruby_to_s(item)
        elif _IDS_KEY.search(key) and isinstance(item, list):
            converted[key] = [_ruby_to_s(element) for element in item]
        else:
            converted[key] = stringify_ids(item)
    return converted


def canvas_json(
    request: Request,
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    if STRING_IDS_MEDIA_TYPE in request.headers.get("accept", ""):
        body = stringify_ids(body)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


# --- parameters ---------------------------------------------------------------------------

_RUBY_INT = re.compile(r"^\s*([+-]?\d+)")
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_TRUE_STRINGS = frozenset({"1", "t", "true", "on", "y", "yes"})


def ruby_to_i(value: Any) -> int:
    """Ruby's String#to_i: leading digits or 0 ("34" -> 34, "12abc" -> 12, "abc" -> 0)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = _RUBY_INT.match(str(value)) if value is not None else None
    return int(match.group(1)) if match else 0


def value_to_boolean(value: Any) -> bool:
    """Canvas's value_to_boolean: true, "true", "1", "on", "yes"… are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().casefold() in _TRUE_STRINGS


def parse_rails_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Rack's nested parameters: `a[]=1&a[]=2` -> {"a": ["1", "2"]},
    `submission[posted_grade]=8` -> {"submission": {"posted_grade": "8"}}."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        path = [head, *_BRACKETS.findall(bracket + rest)] if head else [key]
        _assign(params, path, value)
    return params


def _assign(container: dict[str, Any], path: list[str], value: str) -> None:
    head, *tail = path
    if not tail:
        container[head] = value
    elif tail[0] == "":
        items = container.get(head)
        if not isinstance(items, list):
            items = container[head] = []
        items.append(value)
    else:
        nested = container.get(head)
        if not isinstance(nested, dict):
            nested = container[head] = {}
        _assign(nested, tail, value)


def query_params(request: Request) -> dict[str, Any]:
    return parse_rails_params(parse_qsl(request.url.query, keep_blank_values=True))


async def read_params(request: Request) -> dict[str, Any]:
    """Query and body parameters merged, body winning (as Rails does). The body may be a form
    (`student_ids[]=1`) or JSON (`{"student_ids": [1]}`): Canvas takes both (§2.6)."""
    params = query_params(request)
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise ApiError(
                400, {"errors": [{"message": "The request body is not valid JSON"}]}
            ) from None
        if isinstance(decoded, dict):
            params.update(decoded)
    elif content_type == "application/x-www-form-urlencoded":
        params.update(
            parse_rails_params(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        )
    return params


# --- pagination ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    link_header: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Link": self.link_header}


def _per_page(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_PER_PAGE
    return min(max(ruby_to_i(value), 1), MAX_PER_PAGE)


def _to_query(params: dict[str, Any], namespace: str | None = None) -> list[str]:
    """Rails' Hash#to_query, which sorts the pairs and escapes brackets: `include%5B%5D=…`."""
    parts: list[str] = []
    for key, value in params.items():
        name = f"{namespace}[{key}]" if namespace else key
        if isinstance(value, dict):
            parts.append("&".join(sorted(_to_query(value, name))))
        elif isinstance(value, list):
            parts.append("&".join(f"{quote_plus(name + '[]')}={quote_plus(str(v))}" for v in value))
        else:
            parts.append(f"{quote_plus(name)}={quote_plus(str(value))}")
    return sorted(parts)


def paginate(request: Request, items: Sequence[T]) -> Page[T]:
    """Api.paginate for a numeric collection: the page's slice, and a Link header with rels
    in Canvas's order (current, next, prev, first, last), joined by "," without a space."""
    params = query_params(request)
    per_page = _per_page(params.get("per_page"))
    page = max(ruby_to_i(params.get("page", 1)), 1)
    last = max(1, math.ceil(len(items) / per_page))

    kept = {key: value for key, value in params.items() if key not in NOT_IN_LINKS}
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}?"
    if kept:
        base += "&".join(_to_query(kept)) + "&"
    numbers = {
        "current": page,
        "next": page + 1 if page < last else None,
        "prev": page - 1 if page > 1 else None,
        "first": 1,
        "last": last,
    }
    links = ",".join(
        f'<{base}page={numbers[rel]}&per_page={per_page}>; rel="{rel}"'
        for rel in LINK_RELS
        if numbers[rel] is not None
    )
    start = (page - 1) * per_page
    # A page past the end is an empty list with 200, not an error (paginate_collection!).
    return Page(items=items[start : start + per_page], link_header=links)
