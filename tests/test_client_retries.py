"""Throttling, server errors and dropped connections, retried to the right answer; publish never
sent twice. The sandbox's fault knobs (seeded) make Canvas misbehave; its counters say what
Canvas saw. Backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tui.canvas.client import CanvasClient, RetryPolicy
from tui.canvas.errors import (
    NetworkError,
    RateLimitedError,
    ServerError,
)
from tui.canvas.moderation import ModerationAPI
from tui.sandbox.seed import DEMO
from tui.sandbox.server import SandboxServer
from tui.secret import Secret

COURSE = DEMO.course_id
ESSAY = "/api/v1/courses/{course_id}/assignments/{assignment_id}"
GRADEABLE = f"GET {ESSAY}/gradeable_students"
PUBLISH = f"POST {ESSAY}/provisional_grades/publish"
SELECT = f"PUT {ESSAY}/provisional_grades/{{provisional_grade_id}}/select"
BULK_SELECT = f"PUT {ESSAY}/provisional_grades/bulk_select"
SUBMISSION = f"PUT {ESSAY}/submissions/{{user_id}}"


class RecordedSleeps(list):
    """The retry policy's sleep: remembers each delay instead of waiting it out."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


def policy(sleeps: RecordedSleeps, **overrides) -> RetryPolicy:
    options = dict(attempts=6, base_delay=0.01, max_delay=0.5, random=random.Random(9).random)
    options.update(overrides)
    return RetryPolicy(sleep=sleeps, **options)


@pytest.fixture(scope="module")
def demo_canvas() -> Iterator[SandboxServer]:
    """Shared by the tests that only read (their faults and counters are reset for each);
    tests that change grades or release them take a fresh `sandbox`."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def canvas(demo_canvas: SandboxServer) -> Iterator[SandboxServer]:
    demo_canvas.faults.reset()
    demo_canvas.stats.reset()
    yield demo_canvas
    demo_canvas.faults.reset()


@pytest.fixture
async def reader(canvas: SandboxServer, sleeps: RecordedSleeps) -> AsyncIterator[ModerationAPI]:
    async with CanvasClient(canvas.url, Secret(canvas.token), retry=policy(sleeps)) as client:
        yield ModerationAPI(client)


@pytest.fixture
async def api(sandbox: SandboxServer, sleeps: RecordedSleeps) -> AsyncIterator[ModerationAPI]:
    async with CanvasClient(sandbox.url, Secret(sandbox.token), retry=policy(sleeps)) as client:
        yield ModerationAPI(client)


async def essay_ids(api: ModerationAPI) -> list[int | None]:
    return [s.user_id for s in await api.gradeable_students(COURSE, DEMO.essay_id)]


EXPECTED_ESSAY = list(range(DEMO.student_id, DEMO.student_id + 24))


# -- throttling ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
async def test_throttled_requests_are_retried_to_the_right_answer(
    reader: ModerationAPI, canvas: SandboxServer, sleeps: RecordedSleeps, status: int
) -> None:
    canvas.faults.fail_next("gradeable_students", status, times=2)

    assert await essay_ids(reader) == EXPECTED_ESSAY

    assert canvas.stats.by_route[GRADEABLE] == 3
    assert (reader.client.stats.requests, reader.client.stats.retries) == (3, 2)
    assert reader.client.stats.throttled == 2
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]  # backing off


async def test_backoff_is_jittered_and_capped(sleeps: RecordedSleeps) -> None:
    retry = policy(sleeps, base_delay=1.0, max_delay=8.0)
    delays = [retry.delay(attempt) for attempt in range(1, 8)]
    assert all(0.5 <= d <= 1.0 for d in delays[:1])
    assert all(d <= 8.0 for d in delays)
    assert delays[-1] >= 4.0  # capped at 8, never below half the cap
    assert len(set(delays)) == len(delays)  # jittered: no two retries in lockstep


async def test_retry_after_is_honoured_up_to_the_maximum(
    canvas: SandboxServer, sleeps: RecordedSleeps
) -> None:
    waits = iter(["2", "3600"])

    class RetryAfterProxy(httpx.AsyncHTTPTransport):
        """Canvas's 429 variant (2025) may carry Retry-After: add it to throttle answers."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            if response.status_code == 429:
                await response.aread()
                headers = httpx.Headers(response.headers)
                headers["Retry-After"] = next(waits)
                return httpx.Response(429, headers=headers, content=response.content)
            return response

    canvas.faults.update({"throttle_status": 429})
    canvas.faults.fail_next("users/self", 429, times=2)
    retry = policy(sleeps, max_delay=30.0)
    async with CanvasClient(
        canvas.url, Secret(canvas.token), retry=retry, transport=RetryAfterProxy()
    ) as client:
        me = await ModerationAPI(client).current_user()
    assert me.id == DEMO.final_grader_id
    assert sleeps == [2.0, 30.0]


async def test_seeded_storm_of_faults_still_loads_every_student(
    canvas: SandboxServer, sleeps: RecordedSleeps
) -> None:
    canvas.faults.update({"seed": 1234, "throttle_rate": 0.1, "error_rate": 0.1, "drop_rate": 0.05})
    async with CanvasClient(
        canvas.url, Secret(canvas.token), retry=policy(sleeps, attempts=10)
    ) as client:
        students = await ModerationAPI(client).gradeable_students(
            DEMO.big_course_id, DEMO.big_assignment_id
        )

    assert [s.user_id for s in students] == canvas.state.student_ids(DEMO.big_course_id)
    stats = canvas.stats
    failures = stats.throttled + stats.injected_errors + stats.dropped
    assert failures > 0  # the storm happened
    assert client.stats.retries == failures
    assert client.stats.requests == stats.requests == 25 + failures


# -- server errors and dropped connections ----------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_on_reads_are_retried(
    reader: ModerationAPI, canvas: SandboxServer, status: int
) -> None:
    canvas.faults.fail_next("gradeable_students", status)
    assert await essay_ids(reader) == EXPECTED_ESSAY
    assert canvas.stats.by_route[GRADEABLE] == 2


async def test_dropped_connections_on_reads_are_retried(
    reader: ModerationAPI, canvas: SandboxServer
) -> None:
    canvas.faults.drop_next("gradeable_students", times=2)
    assert await essay_ids(reader) == EXPECTED_ESSAY
    assert canvas.stats.dropped == 2
    assert reader.client.stats.retries == 2


async def test_a_read_that_keeps_failing_gives_up_with_the_last_error(
    reader: ModerationAPI, canvas: SandboxServer
) -> None:
    canvas.faults.fail_next("gradeable_students", 503, times=100)
    with pytest.raises(ServerError) as caught:
        await essay_ids(reader)
    assert caught.value.status == 503
    assert canvas.stats.by_route[GRADEABLE] == 6  # the policy's attempts, not one more


@pytest.mark.parametrize("status", [403, 502, 503])
async def test_select_is_retried_because_it_is_idempotent(
    api: ModerationAPI, sandbox: SandboxServer, status: int
) -> None:
    sandbox.faults.fail_next("/select", status)
    selection = await api.select_grade(COURSE, DEMO.essay_id, 53049)
    assert selection.selected_provisional_grade_id == 53049
    assert sandbox.stats.by_route[SELECT] == 2


async def test_select_that_reached_canvas_but_lost_its_answer_is_safely_repeated(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    sandbox.faults.drop_after_commit("/select")
    selection = await api.select_grade(COURSE, DEMO.essay_id, 53050)
    assert selection.selected_provisional_grade_id == 53050
    assert (
        sandbox.state.selection_for(DEMO.essay_id, DEMO.student_id).selected_provisional_grade_id
        == 53050
    )


async def test_bulk_select_survives_a_dropped_connection(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    sandbox.faults.drop_next("bulk_select")
    changes = await api.bulk_select(COURSE, DEMO.essay_id, [53049])
    assert [c.selected_provisional_grade_id for c in changes] == [53049]
    assert sandbox.stats.by_route[BULK_SELECT] == 2


async def test_a_500_on_a_put_is_not_retried(api: ModerationAPI, sandbox: SandboxServer) -> None:
    # Canvas's known 500s on these PUTs are deterministic: say so at once (client.py).
    sandbox.faults.fail_next("/select", 500)
    with pytest.raises(ServerError):
        await api.select_grade(COURSE, DEMO.essay_id, 53049)
    assert sandbox.stats.by_route[SELECT] == 1


async def test_custom_grade_survives_a_lost_answer_with_one_final_grade(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    student = next(
        s
        for s in await api.gradeable_students(COURSE, DEMO.essay_id)
        if s.user_id == DEMO.student_id
    )
    sandbox.faults.drop_after_commit(f"/submissions/{DEMO.student_id}")

    grade = await api.set_custom_grade(COURSE, DEMO.essay_id, student, "9")

    assert grade.final and grade.score == 9.0
    assert sandbox.stats.by_route[SUBMISSION] == 2
    submission = sandbox.state.submission_for(DEMO.essay_id, DEMO.student_id)
    finals = [pg for pg in sandbox.state.grades_of(submission) if pg.final]
    assert [pg.id for pg in finals] == [grade.id]


# -- publish: sent once, settled by reading ---------------------------------------------


async def test_publish_whose_answer_was_lost_is_reported_released(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    sandbox.faults.drop_after_commit("provisional_grades/publish")

    await api.publish(COURSE, DEMO.ready_id)  # no error: Canvas confirms the release

    assert sandbox.stats.by_route[PUBLISH] == 1
    assert sandbox.state.assignments[DEMO.ready_id].grades_published_at is not None


async def test_publish_that_never_arrived_says_not_released(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    sandbox.faults.drop_next("provisional_grades/publish")

    with pytest.raises(NetworkError) as caught:
        await api.publish(COURSE, DEMO.ready_id)

    assert "NOT released" in str(caught.value)
    assert sandbox.stats.by_route[PUBLISH] == 1
    assert sandbox.state.assignments[DEMO.ready_id].grades_published_at is None


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_publish_answered_with_a_server_error_is_not_repeated(
    api: ModerationAPI, sandbox: SandboxServer, status: int
) -> None:
    sandbox.faults.fail_next("provisional_grades/publish", status)

    with pytest.raises(ServerError) as caught:
        await api.publish(COURSE, DEMO.ready_id)

    assert caught.value.status == status and "NOT released" in str(caught.value)
    assert sandbox.stats.by_route[PUBLISH] == 1


async def test_publish_throttled_is_reported_not_repeated(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    sandbox.faults.fail_next("provisional_grades/publish", 403)
    with pytest.raises(RateLimitedError):
        await api.publish(COURSE, DEMO.ready_id)
    assert sandbox.stats.by_route[PUBLISH] == 1


async def test_publish_outcome_unknown_when_canvas_cannot_be_asked(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    sandbox.faults.drop_after_commit("provisional_grades/publish")
    sandbox.faults.fail_next("gradeable_students", 503, times=100)

    with pytest.raises(NetworkError) as caught:
        await api.publish(COURSE, DEMO.ready_id)

    assert "may or may not" in str(caught.value)
    assert sandbox.stats.by_route[PUBLISH] == 1


async def test_publish_of_an_anonymous_assignment_settles_through_the_anonymous_probe(
    api: ModerationAPI, sandbox: SandboxServer
) -> None:
    # Resolve every student of the anonymous journal, then lose the publish answer.
    students = await api.gradeable_students(COURSE, DEMO.anonymous_id)
    await api.bulk_select(
        COURSE,
        DEMO.anonymous_id,
        [s.provisional_grades[0].id for s in students if s.provisional_grades],
    )
    sandbox.faults.drop_after_commit("provisional_grades/publish")

    await api.publish(COURSE, DEMO.anonymous_id)

    assert sandbox.state.assignments[DEMO.anonymous_id].grades_published_at is not None
    assert sum(n for route, n in sandbox.stats.by_route.items() if route.startswith("POST")) == 1
