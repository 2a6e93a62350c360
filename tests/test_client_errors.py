"""Every error class, provoked the way Canvas provokes it, and the token kept out of all of them.

Each error must carry Canvas's own words, the method and the path (never the query string), and
must not leak the token: not in str/repr, not in a formatted traceback, not in the locals of any
frame of that traceback (Textual's crash screen prints them), not in any log line.
"""

from __future__ import annotations

import logging
import random
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest

from tui.canvas.client import CanvasClient, RetryPolicy
from tui.canvas.errors import (
    AlreadyPublishedError,
    BadRequestError,
    CanvasError,
    ExpiredTokenError,
    InvalidTokenError,
    NetworkError,
    NotFoundError,
    NotModeratedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    UnselectedGradesError,
)
from tui.canvas.moderation import ModerationAPI
from tui.sandbox.seed import DEMO
from tui.sandbox.server import SandboxServer
from tui.secret import Secret

COURSE = DEMO.course_id
ESSAY = f"courses/{COURSE}/assignments/{DEMO.essay_id}"
EXPIRING_TOKEN = "7~expired-token-of-jonas"
REVOKED_TOKEN = "7~revoked-token-of-jonas"
ALL_TOKENS = (
    DEMO.final_grader_token,
    DEMO.grader_token,
    DEMO.admin_token,
    EXPIRING_TOKEN,
    REVOKED_TOKEN,
    "1~not-a-real-token-but-secret",
)


@pytest.fixture(scope="module")
def demo_canvas() -> Iterator[SandboxServer]:
    """One sandbox for this module: every scenario here changes fault knobs (reset after each
    test) or adds tokens of its own, never the grades the others read."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def canvas(demo_canvas: SandboxServer) -> Iterator[SandboxServer]:
    demo_canvas.stats.reset()
    yield demo_canvas
    demo_canvas.faults.reset()


def fast_retries(attempts: int = 4) -> RetryPolicy:
    async def no_wait(_: float) -> None:
        return None

    return RetryPolicy(
        attempts=attempts,
        base_delay=0.001,
        max_delay=0.002,
        random=random.Random(5).random,
        sleep=no_wait,
    )


def api_for(server: SandboxServer, token: str | None = None, **options) -> ModerationAPI:
    options.setdefault("retry", fast_retries())
    url = options.pop("url", server.url)
    return ModerationAPI(CanvasClient(url, Secret(token or server.token), **options))


class HtmlLoginPage(httpx.AsyncBaseTransport):
    """What a wrong base URL often gives: a 200 HTML page instead of JSON."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html="<html><body>Log in to Canvas</body></html>")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def raised(call: Awaitable[object]) -> CanvasError:
    with pytest.raises(CanvasError) as caught:
        await call
    return caught.value


# Each scenario: (expected class, status, words from Canvas, how to provoke it).
Scenario = Callable[[SandboxServer], Awaitable[CanvasError]]


async def invalid_token(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server, "1~not-a-real-token-but-secret").current_user())


class HeaderStrippingProxy(httpx.AsyncHTTPTransport):
    """A misconfigured proxy that drops the Authorization header on its way to Canvas."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        del request.headers["Authorization"]
        return await super().handle_async_request(request)


async def no_token_arrives(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server, transport=HeaderStrippingProxy()).current_user())


async def expired_token(server: SandboxServer) -> CanvasError:
    server.state.issue_token(DEMO.grader_id, EXPIRING_TOKEN)
    server.state.revoke_token(EXPIRING_TOKEN, "Expired")
    return await raised(api_for(server, EXPIRING_TOKEN).current_user())


async def revoked_token(server: SandboxServer) -> CanvasError:
    server.state.issue_token(DEMO.grader_id, REVOKED_TOKEN)
    server.state.revoke_token(REVOKED_TOKEN, "Revoked")
    return await raised(api_for(server, REVOKED_TOKEN).current_user())


async def not_final_grader_401(server: SandboxServer) -> CanvasError:
    # Jonas grades Essay 2 but is not its final grader: the grid with grades is not his.
    return await raised(
        api_for(server, DEMO.grader_token).gradeable_students(COURSE, DEMO.essay_id)
    )


async def not_final_grader_403(server: SandboxServer) -> CanvasError:
    server.faults.permission_status = 403  # Canvas's api_auth_error_updates flag on (§2.3)
    return await raised(
        api_for(server, DEMO.grader_token).gradeable_students(COURSE, DEMO.essay_id)
    )


async def unknown_assignment(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server).get_assignment(COURSE, 999999))


async def not_moderated(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server).grades_published(COURSE, DEMO.plain_id, DEMO.student_id))


async def already_published(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server).publish(COURSE, DEMO.released_id))


async def unselected_grades(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server).publish(COURSE, DEMO.essay_id))


async def missing_parameter(server: SandboxServer) -> CanvasError:
    async with CanvasClient(server.url, Secret(server.token)) as client:
        return await raised(client.get(f"{ESSAY}/provisional_grades/status"))


async def custom_grade_without_other_grades(server: SandboxServer) -> CanvasError:
    api = api_for(server)
    students = await api.gradeable_students(COURSE, DEMO.essay_id)
    ungraded = next(s for s in students if s.user_id == DEMO.ungraded_student_id)
    return await raised(api.set_custom_grade(COURSE, DEMO.essay_id, ungraded, "9"))


async def throttled_throughout(server: SandboxServer) -> CanvasError:
    server.faults.throttle_rate = 1.0
    return await raised(api_for(server).current_user())


async def throttled_429_throughout(server: SandboxServer) -> CanvasError:
    server.faults.update({"throttle_rate": 1.0, "throttle_status": 429})
    return await raised(api_for(server).current_user())


async def server_error_throughout(server: SandboxServer) -> CanvasError:
    server.faults.error_rate = 1.0
    return await raised(api_for(server).current_user())


async def dropped_throughout(server: SandboxServer) -> CanvasError:
    server.faults.drop_rate = 1.0
    return await raised(api_for(server).current_user())


async def nobody_listening(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server, url=f"http://127.0.0.1:{closed_port()}").current_user())


async def html_instead_of_json(server: SandboxServer) -> CanvasError:
    return await raised(api_for(server, transport=HtmlLoginPage()).current_user())


SCENARIOS: list[tuple[str, type[CanvasError], int | None, str | None, Scenario]] = [
    ("invalid token", InvalidTokenError, 401, "Invalid access token.", invalid_token),
    ("no token arrives", InvalidTokenError, 401, "user authorization required", no_token_arrives),
    ("expired token", ExpiredTokenError, 401, "Expired access token.", expired_token),
    ("revoked token", ExpiredTokenError, 401, "Revoked access token.", revoked_token),
    (
        "permission 401",
        PermissionDeniedError,
        401,
        "user not authorized to perform that action",
        not_final_grader_401,
    ),
    (
        "permission 403",
        PermissionDeniedError,
        403,
        "user not authorized to perform that action",
        not_final_grader_403,
    ),
    ("not found", NotFoundError, 404, "The specified resource does not exist.", unknown_assignment),
    (
        "not moderated",
        NotModeratedError,
        400,
        "Assignment does not use moderated grading",
        not_moderated,
    ),
    (
        "already published",
        AlreadyPublishedError,
        400,
        "Assignment grades have already been published",
        already_published,
    ),
    (
        "unselected",
        UnselectedGradesError,
        422,
        "All submissions must have a selected grade",
        unselected_grades,
    ),
    ("missing parameter", BadRequestError, 400, "student_id is missing", missing_parameter),
    (
        "grade refused",
        BadRequestError,
        400,
        "Cannot give a final mark for a student with no other provisional grades",
        custom_grade_without_other_grades,
    ),
    (
        "throttled 403",
        RateLimitedError,
        403,
        "403 Forbidden (Rate Limit Exceeded)",
        throttled_throughout,
    ),
    (
        "throttled 429",
        RateLimitedError,
        429,
        "429 Too Many Requests (Rate Limit Exceeded)",
        throttled_429_throughout,
    ),
    ("server error", ServerError, 500, "An error occurred (error report", server_error_throughout),
    ("dropped", NetworkError, None, "RemoteProtocolError", dropped_throughout),
    ("refused", NetworkError, None, "ConnectError", nobody_listening),
    ("html", ProtocolError, 200, "expected JSON, got text/html", html_instead_of_json),
]


@pytest.mark.parametrize(
    ("expected", "status", "words", "provoke"),
    [scenario[1:] for scenario in SCENARIOS],
    ids=[scenario[0] for scenario in SCENARIOS],
)
async def test_each_failure_is_its_own_error_with_canvas_words(
    canvas: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    expected: type[CanvasError],
    status: int | None,
    words: str,
    provoke: Scenario,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("tui.canvas", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)

    error = await provoke(canvas)

    assert type(error) is expected
    assert error.status == status
    assert words in (error.canvas_message or "")
    assert error.method in {"GET", "PUT", "POST"}
    assert error.path and error.path.startswith("/api/v1/") and "?" not in error.path
    assert error.summary in str(error)
    assert_no_token_anywhere(error, caplog.text)


def assert_no_token_anywhere(error: CanvasError, logs: str) -> None:
    texts = [str(error), repr(error), logs, "".join(traceback.format_exception(error))]
    # What a crash screen with locals shows: every frame's local variables, as repr.
    frame_tb = error.__traceback__
    while frame_tb is not None:
        texts.extend(repr(value) for value in frame_tb.tb_frame.f_locals.values())
        frame_tb = frame_tb.tb_next
    for token in ALL_TOKENS:
        for text in texts:
            assert token not in text


async def test_errors_do_not_carry_the_httpx_exception(canvas: SandboxServer) -> None:
    # httpx exceptions hold the request (headers and all): none may hang off our errors.
    canvas.faults.drop_rate = 1.0
    error = await dropped_throughout(canvas)
    assert error.__cause__ is None and error.__context__ is None
    assert "httpx" not in "".join(traceback.format_exception(error))


async def test_logs_name_method_path_status_and_attempt_but_never_the_token(
    canvas: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canvas.faults.fail_next("gradeable_students", 503)
    api = api_for(canvas)
    await api.gradeable_students(COURSE, DEMO.essay_id)
    await api.select_grade(COURSE, DEMO.essay_id, 53049)

    ours = [r.getMessage() for r in caplog.records if r.name == "tui.canvas"]
    gradeable = f"/api/v1/{ESSAY}/gradeable_students"
    assert f"GET {gradeable} -> 503 (attempt 1)" in ours
    assert f"GET {gradeable} -> 200 (attempt 2)" in ours
    assert any(line.startswith("PUT ") and "/select -> 200" in line for line in ours)
    assert DEMO.final_grader_token not in caplog.text
    assert "Bearer" not in caplog.text
    # The query string (per_page, include[]) stays out of our own lines.
    assert not any("per_page" in line for line in ours)


async def test_the_token_travels_only_in_the_authorization_header(canvas: SandboxServer) -> None:
    seen: list[httpx.Request] = []

    class Recorder(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await super().handle_async_request(request)

    api = api_for(canvas, transport=Recorder())
    await api.gradeable_students(COURSE, DEMO.essay_id)
    await api.bulk_select(COURSE, DEMO.essay_id, [53049])
    await api.client.aclose()

    assert seen
    for request in seen:
        assert request.headers["Authorization"] == f"Bearer {DEMO.final_grader_token}"
        assert DEMO.final_grader_token not in str(request.url)
        assert DEMO.final_grader_token not in request.content.decode()
        assert request.headers["User-Agent"].startswith("Moderate/")
        assert "access_token" not in str(request.url)
    assert seen[0].url.params["per_page"] == "100"


async def test_a_malformed_record_is_a_protocol_error_naming_the_request(
    canvas: SandboxServer,
) -> None:
    class NamelessUser(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"id": 1})

    error = await raised(api_for(canvas, transport=NamelessUser()).current_user())
    assert type(error) is ProtocolError
    assert error.path == "/api/v1/users/self" and error.method == "GET"


async def test_a_redirect_is_not_followed(canvas: SandboxServer) -> None:
    sent: list[httpx.URL] = []

    class LoginRedirect(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.url)
            return httpx.Response(302, headers={"Location": "https://sso.example.edu/login?x=1"})

    error = await raised(api_for(canvas, transport=LoginRedirect()).current_user())
    assert type(error) is ProtocolError and "sso.example.edu/login" in str(error)
    assert len(sent) == 1


@pytest.mark.parametrize(
    "typed", ["", "7~abc\n", " 7~abc", "7~a bc", "7~äbc", "7~abc\r\nX-Evil: 1"]
)
async def test_a_token_no_canvas_could_accept_is_refused_before_sending(typed: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": 1, "name": "x"})

    with pytest.raises(InvalidTokenError) as caught:
        CanvasClient(
            "https://school.instructure.com", Secret(typed), transport=httpx.MockTransport(record)
        )
    assert sent == []
    if typed.strip():
        assert typed.strip() not in str(caught.value)
