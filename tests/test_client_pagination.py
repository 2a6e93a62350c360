"""Pagination: every student once, in Canvas's order, however the pages arrive.

Real HTTP against the sandbox. Where Canvas can behave in ways the sandbox does not by default
(pages completing out of order, no `rel="last"`, a link to another site, a busy throttle
bucket), a relay transport sits between the client and the real socket and changes only that.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.canvas.client import CanvasClient, RetryPolicy
from tui.canvas.errors import NotFoundError, ProtocolError
from tui.canvas.moderation import ModerationAPI
from tui.sandbox.app import create_app
from tui.sandbox.seed import DEMO, build_moderated_course
from tui.sandbox.server import SandboxServer
from tui.sandbox.state import SandboxState
from tui.secret import Secret

GRADEABLE = "GET /api/v1/courses/{course_id}/assignments/{assignment_id}/gradeable_students"
SIZES = (1, 100, 101, 2500)
MEDIUM = 1000  # ten pages: enough for every concurrency case, a quarter of the work of 2,500


class Relay(httpx.AsyncBaseTransport):
    """Passes requests to the real socket; `on_response` may delay or rewrite the answer."""

    def __init__(
        self,
        on_response: Callable[[httpx.Request, httpx.Response], Awaitable[httpx.Response]]
        | None = None,
    ) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.on_response = on_response
        self.sent: list[httpx.URL] = []
        self.completed: list[int] = []  # page numbers, in the order their answers finished
        self.in_flight = 0
        self.peak_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            response = await self.inner.handle_async_request(request)
            if self.on_response is not None:
                await response.aread()
                response = await self.on_response(request, response)
            self.completed.append(int(request.url.params.get("page", "1")))
            return response
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


async def rewritten(
    response: httpx.Response, request: httpx.Request, **headers: str
) -> httpx.Response:
    await response.aread()
    merged = httpx.Headers(response.headers)
    for name, value in headers.items():
        merged[name] = value
    merged.pop("content-length", None)
    return httpx.Response(
        response.status_code, headers=merged, content=response.content, request=request
    )


def fast_retries() -> RetryPolicy:
    async def no_wait(_: float) -> None:
        return None

    return RetryPolicy(
        base_delay=0.001, max_delay=0.002, random=random.Random(3).random, sleep=no_wait
    )


@pytest.fixture(scope="module")
def sized() -> Iterator[tuple[SandboxServer, dict[int, tuple[int, int]]]]:
    """One read-only sandbox with a moderated course of each size (built once: it's fast)."""
    state = SandboxState()
    courses = {n: build_moderated_course(state, students=n, graders=3) for n in (*SIZES, MEDIUM)}
    with SandboxServer(state=state) as server:
        yield server, courses


@pytest.fixture
def small() -> Iterator[tuple[SandboxServer, int, int]]:
    """A sandbox of our own with 250 students, for tests that change the roster mid-load."""
    state = SandboxState()
    course_id, assignment_id = build_moderated_course(state, students=250)
    with SandboxServer(state=state) as server:
        yield server, course_id, assignment_id


def client_for(server: SandboxServer, **options) -> CanvasClient:
    options.setdefault("retry", fast_retries())
    return CanvasClient(server.url, Secret(server.token), **options)


def expected_ids(server: SandboxServer, course_id: int) -> list[int]:
    return server.state.student_ids(course_id)


async def load(client: CanvasClient, course_id: int, assignment_id: int) -> list[int | None]:
    students = await ModerationAPI(client).gradeable_students(course_id, assignment_id)
    return [student.user_id for student in students]


# -- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_every_student_once_in_order(sized, size: int) -> None:
    server, courses = sized
    course_id, assignment_id = courses[size]
    before = server.stats.by_route[GRADEABLE]

    async with client_for(server) as client:
        ids = await load(client, course_id, assignment_id)

    assert ids == expected_ids(server, course_id)
    assert len(ids) == size
    # 100 a page: 1 → 1 request, 100 → 1, 101 → 2, 2,500 → 25; nothing fetched twice.
    assert server.stats.by_route[GRADEABLE] - before == math.ceil(size / 100)
    assert client.stats.requests == math.ceil(size / 100)


async def test_first_students_arrive_before_the_last_page(sized) -> None:
    server, courses = sized
    course_id, assignment_id = courses[2500]
    async with client_for(server) as client:
        api = ModerationAPI(client)
        pages = api.iter_gradeable_students(course_id, assignment_id)
        first = await anext(pages)
        # The screen can show 100 rows now; the other 24 pages are not even asked for yet.
        assert len(first.students) == 100 and first.loaded == 100
        assert first.expected_total == 2500
        assert client.stats.requests == 1
        rest = [page async for page in pages]
    assert rest[-1].loaded == 2500
    assert [page.loaded for page in rest] == list(range(200, 2501, 100))


async def test_pages_completing_out_of_order_are_still_handed_out_in_order(sized) -> None:
    server, courses = sized
    course_id, assignment_id = courses[MEDIUM]

    async def late(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        # Later pages answer sooner, as a slow network may make them: the order of completion
        # is then reversed within every batch, by construction rather than by chance.
        page = int(request.url.params.get("page", "1"))
        await asyncio.sleep(0.002 * max(0, 30 - page))
        return response

    relay = Relay(late)
    async with client_for(server, transport=relay) as client:
        ids = await load(client, course_id, assignment_id)

    assert relay.completed != sorted(relay.completed)  # the scenario really happened
    assert ids == expected_ids(server, course_id)


async def test_without_a_page_count_next_links_are_followed(sized) -> None:
    server, courses = sized
    course_id, assignment_id = courses[MEDIUM]

    async def no_last(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        links = [part for part in response.headers["Link"].split(",") if 'rel="last"' not in part]
        return await rewritten(response, request, Link=",".join(links))

    relay = Relay(no_last)
    async with client_for(server, transport=relay) as client:
        pages = [
            page
            async for page in ModerationAPI(client).iter_gradeable_students(
                course_id, assignment_id
            )
        ]

    assert [s.user_id for page in pages for s in page.students] == expected_ids(server, course_id)
    assert all(page.expected_total is None for page in pages)
    assert relay.peak_in_flight == 1  # one page after another, as the links dictate
    assert len(relay.sent) == 10


# -- a list that changes while it is read ------------------------------------------------


async def test_a_student_added_mid_load_does_not_duplicate_rows(small) -> None:
    server, course_id, assignment_id = small
    original = expected_ids(server, course_id)
    async with client_for(server) as client:
        pages = ModerationAPI(client).iter_gradeable_students(course_id, assignment_id)
        first = await anext(pages)
        # A late enrolment with the lowest id sorts first: every later page shifts by one row,
        # so page 2 now starts with the row page 1 ended with.
        late = server.state.add_user("Aaron Late", user_id=1, created_at=datetime.now(UTC))
        server.state.enroll(course_id, late.id, "student")
        rest = [page async for page in pages]

    ids = [s.user_id for page in (first, *rest) for s in page.students]
    assert len(ids) == len(set(ids))
    assert ids == original


async def test_students_added_after_the_count_are_still_loaded(small) -> None:
    server, course_id, assignment_id = small
    async with client_for(server) as client:
        pages = ModerationAPI(client).iter_gradeable_students(course_id, assignment_id)
        first = await anext(pages)
        assert first.expected_total == 300  # three pages when the count was taken
        for n in range(51):
            user = server.state.add_user(f"Zed Late {n}", created_at=datetime.now(UTC))
            server.state.enroll(course_id, user.id, "student")
        rest = [page async for page in pages]

    ids = [s.user_id for page in (first, *rest) for s in page.students]
    assert ids == expected_ids(server, course_id)
    assert len(ids) == 301


async def test_stopping_early_leaves_no_requests_running(sized) -> None:
    server, courses = sized
    course_id, assignment_id = courses[MEDIUM]
    async with client_for(server) as client:
        pages = ModerationAPI(client).iter_gradeable_students(course_id, assignment_id)
        await anext(pages)
        await anext(pages)  # the concurrent fetch of the other pages is now under way
        await pages.aclose()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        # ...and the client is still good for the next load.
        assert len(await load(client, *courses[101])) == 101


# -- safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["next", "last"])
async def test_a_link_to_another_site_is_never_followed(sized, rel: str) -> None:
    server, courses = sized
    course_id, assignment_id = courses[MEDIUM]

    async def elsewhere(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        link = response.headers["Link"].replace(server.url, "https://canvas.attacker.example")
        return await rewritten(response, request, Link=link)

    relay = Relay(elsewhere)
    async with client_for(server, transport=relay) as client:
        with pytest.raises(ProtocolError) as caught:
            await load(client, course_id, assignment_id)

    assert "another site" in str(caught.value)
    assert {url.host for url in relay.sent} == {"127.0.0.1"}
    assert len(relay.sent) == 1


async def test_same_origin_relative_links_are_followed(sized) -> None:
    server, courses = sized
    course_id, assignment_id = courses[101]

    async def relative(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return await rewritten(
            response, request, Link=response.headers["Link"].replace(server.url, "")
        )

    async with client_for(server, transport=Relay(relative)) as client:
        assert await load(client, course_id, assignment_id) == expected_ids(server, course_id)


# -- concurrency that follows Canvas's throttle -------------------------------------------


async def test_pages_are_fetched_concurrently_up_to_the_bound(sized) -> None:
    server, courses = sized
    relay = Relay()
    async with client_for(server, transport=relay, max_concurrency=6) as client:
        await load(client, *courses[MEDIUM])
    assert relay.peak_in_flight == 6


async def test_a_busy_rate_limit_bucket_shrinks_concurrency(sized) -> None:
    server, courses = sized

    async def busy(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return await rewritten(response, request, **{"X-Rate-Limit-Remaining": "120.0"})

    relay = Relay(busy)
    async with client_for(server, transport=relay, max_concurrency=6) as client:
        ids = await load(client, *courses[MEDIUM])
        assert client.concurrency_limit == 1
    assert len(ids) == MEDIUM
    assert relay.peak_in_flight <= 3  # halved by the first answer, and again after


async def test_concurrency_grows_back_when_the_bucket_drains(sized) -> None:
    server, courses = sized
    answers = 0

    async def busy_then_idle(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        nonlocal answers
        answers += 1
        remaining = "50.0" if answers <= 3 else "590.0"
        return await rewritten(response, request, **{"X-Rate-Limit-Remaining": remaining})

    async with client_for(server, transport=Relay(busy_then_idle), max_concurrency=6) as client:
        await load(client, *courses[MEDIUM])
        assert client.concurrency_limit == 6


async def test_a_page_that_is_not_a_list_is_a_protocol_error(sized) -> None:
    server, courses = sized

    async def not_a_list(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return httpx.Response(200, json={"students": []}, request=request)

    async with client_for(server, transport=Relay(not_a_list)) as client:
        with pytest.raises(ProtocolError) as caught:
            await load(client, *courses[1])
    assert caught.value.path.endswith("/gradeable_students")


def test_sizes_fixture_builds_what_it_says(sized) -> None:
    server, courses = sized
    assert {n: len(server.state.student_ids(c)) for n, (c, _) in courses.items()} == {
        n: n for n in (*SIZES, MEDIUM)
    }


# -- any size, any page size, any concurrency ---------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    students=st.integers(min_value=0, max_value=260),
    per_page=st.integers(min_value=1, max_value=100),
    concurrency=st.integers(min_value=1, max_value=8),
)
async def test_any_roster_loads_whole_in_order(
    students: int, per_page: int, concurrency: int
) -> None:
    # In-process (httpx's ASGI transport): a fresh sandbox per example costs milliseconds.
    state = SandboxState()
    course_id, assignment_id = build_moderated_course(state, students=students)
    transport = httpx.ASGITransport(app=create_app(state))
    async with CanvasClient(
        "http://127.0.0.1",
        Secret(DEMO.final_grader_token),
        transport=transport,
        per_page=per_page,
        max_concurrency=concurrency,
        retry=fast_retries(),
    ) as client:
        pages = [
            page
            async for page in ModerationAPI(client).iter_gradeable_students(
                course_id, assignment_id
            )
        ]

    ids = [s.user_id for page in pages for s in page.students]
    assert ids == state.student_ids(course_id)
    assert len(pages) == max(1, math.ceil(students / per_page))
    assert client.stats.requests == len(pages)
    assert all(
        page.expected_total is not None and page.expected_total >= students for page in pages
    )


async def test_a_failing_later_page_fails_the_load_and_stops_the_others(sized) -> None:
    server, courses = sized

    async def page_five_gone(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.params.get("page") == "5":
            body = {"errors": [{"message": "The specified resource does not exist."}]}
            return httpx.Response(404, json=body, request=request)
        return response

    async with client_for(server, transport=Relay(page_five_gone)) as client:
        with pytest.raises(NotFoundError) as caught:
            await load(client, *courses[MEDIUM])
        assert asyncio.all_tasks() == {asyncio.current_task()}
    assert caught.value.canvas_message == "The specified resource does not exist."
    assert "page" not in (caught.value.path or "")
