"""The sandbox misbehaves the ways Canvas does, on demand: throttling (403 text or 429),
500s with Canvas's body, dropped connections, latency, one-shot injections. And it runs as a
real server on a loopback port, and as `moderate sandbox`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tui.sandbox import DEMO, Faults, SandboxServer, create_app, demo_state
from tui.sandbox.edge import LeakyBucket

ESSAY = f"/api/v1/courses/{DEMO.course_id}/assignments/{DEMO.essay_id}"
READY = f"/api/v1/courses/{DEMO.course_id}/assignments/{DEMO.ready_id}"
SELF = "/api/v1/users/self"
THROTTLED_403 = "403 Forbidden (Rate Limit Exceeded)\n"


def http_client(server: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"})


def asgi_client(app, token: str = DEMO.final_grader_token) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://canvas.test",
        headers={"Authorization": f"Bearer {token}"},
    )


# --- the server -------------------------------------------------------------------------


def test_the_server_serves_the_demo_on_a_loopback_port_and_stops_cleanly():
    with SandboxServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.token == DEMO.final_grader_token
        with http_client(server) as client:
            response = client.get(f"/api/v1/courses/{DEMO.course_id}/users", params={"per_page": 1})
            assert [user["name"] for user in response.json()] == ["Frances Allen"]
            # Links name the real host and port, so a client can follow them.
            assert response.headers["Link"].startswith(f"<{server.url}/api/v1/courses/")
        url = server.url
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}{SELF}")


async def test_the_server_is_an_async_context_manager_too():
    async with SandboxServer(demo_state()) as server, httpx.AsyncClient() as client:
        response = await client.get(
            f"{server.url}{SELF}", headers={"Authorization": f"Bearer {server.token}"}
        )
        assert response.json()["name"] == "Mira Okafor"
        assert server.stats.by_route[f"GET {SELF}"] == 1
    assert not server.running


def test_state_changes_in_process_show_over_http(sandbox):
    with http_client(sandbox) as client:
        assert client.get(SELF).status_code == 200
        sandbox.state.revoke_token(sandbox.token)
        assert client.get(SELF).json() == {"errors": [{"message": "Invalid access token."}]}


# --- throttling -------------------------------------------------------------------------


async def test_a_throttled_request_gets_canvass_text_403_and_no_cost(sandbox_app):
    sandbox_app.state.faults.throttle_rate = 1.0
    async with asgi_client(sandbox_app) as client:
        response = await client.get(SELF)
    assert response.status_code == 403
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == THROTTLED_403
    assert response.headers["X-Rate-Limit-Remaining"] == "0.0"
    assert "X-Request-Cost" not in response.headers
    assert sandbox_app.state.stats.throttled == 1


async def test_throttling_can_answer_429_instead(sandbox_app):
    sandbox_app.state.faults.update({"throttle_rate": 1.0, "throttle_status": 429})
    async with asgi_client(sandbox_app) as client:
        response = await client.get(SELF)
    assert (response.status_code, response.text) == (
        429,
        "429 Too Many Requests (Rate Limit Exceeded)\n",
    )


async def test_remaining_allowance_drops_while_requests_run_side_by_side(sandbox_app):
    sandbox_app.state.faults.latency = 0.3  # keeps five requests in flight together
    async with asgi_client(sandbox_app) as client:
        responses = await asyncio.gather(*(client.get(SELF) for _ in range(5)))
        remaining = sorted(float(r.headers["X-Rate-Limit-Remaining"]) for r in responses)
        sandbox_app.state.faults.latency = 0
        alone = float((await client.get(SELF)).headers["X-Rate-Limit-Remaining"])
    # The first to finish still had the others holding 50 each (less what leaked meanwhile).
    assert remaining[0] < LeakyBucket.HIGH_WATER_MARK - 3 * LeakyBucket.UP_FRONT_COST
    assert alone > remaining[0]


def test_a_full_bucket_refuses_the_next_request():
    bucket = LeakyBucket()
    capacity = int(LeakyBucket.MAXIMUM // LeakyBucket.UP_FRONT_COST)
    # The bucket leaks while we fill it, so the refusal comes at capacity or just after.
    accepted = next(n for n in range(capacity + 3) if not bucket.reserve("token:a"))
    assert capacity <= accepted <= capacity + 1
    assert bucket.reserve("token:b")  # buckets are per client


# --- errors and injections ----------------------------------------------------------------


async def test_an_internal_error_has_canvass_500_body(sandbox_app):
    sandbox_app.state.faults.error_rate = 1.0
    async with asgi_client(sandbox_app) as client:
        first, second = await client.get(SELF), await client.get(SELF)
    assert first.status_code == 500
    assert first.json()["errors"] == [
        {"message": "An error occurred.", "error_code": "internal_server_error"}
    ]
    assert second.json()["error_report_id"] == first.json()["error_report_id"] + 1


async def test_fail_next_hits_only_the_matching_requests_and_only_so_many_times(sandbox_app):
    sandbox_app.state.faults.fail_next("provisional_grades/publish", 500, times=2)
    async with asgi_client(sandbox_app) as client:
        assert (await client.get(SELF)).status_code == 200
        publish = f"{READY}/provisional_grades/publish"
        assert [(await client.post(publish)).status_code for _ in range(3)] == [500, 500, 200]


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, "503 Service Unavailable\n"), (403, THROTTLED_403)],
)
async def test_injected_statuses_carry_the_body_canvas_sends_with_them(sandbox_app, status, body):
    sandbox_app.state.faults.fail_next("users/self", status)
    async with asgi_client(sandbox_app) as client:
        response = await client.get(SELF)
    assert (response.status_code, response.text) == (status, body)


async def test_faults_draw_the_same_sequence_for_the_same_seed():
    async def statuses(seed: int) -> list[int]:
        app = create_app(demo_state(), Faults(error_rate=0.5, seed=seed))
        async with asgi_client(app) as client:
            return [(await client.get(SELF)).status_code for _ in range(12)]

    first = await statuses(7)
    assert first == await statuses(7)
    assert set(first) == {200, 500}


def test_faults_refuse_nonsense():
    faults = Faults()
    with pytest.raises(ValueError):
        faults.throttle_status = 500
    with pytest.raises(ValueError):
        faults.update({"error_rate": 0.5, "drop_rate": 2})
    assert faults.error_rate == 0.0  # all or nothing
    with pytest.raises(ValueError):
        faults.fail_next("publish", 200)


# --- dropped connections ------------------------------------------------------------------


def test_a_dropped_connection_is_a_transport_error_over_real_http(sandbox):
    sandbox.faults.drop_next("users/self")
    with http_client(sandbox) as client:
        with pytest.raises(httpx.TransportError):
            client.get(SELF)
        assert client.get(SELF).status_code == 200  # one-shot
        sandbox.faults.drop_rate = 1.0
        with pytest.raises(httpx.TransportError):
            client.get(f"{ESSAY}/moderated_students")
    assert sandbox.stats.dropped == 2


def test_drop_after_commit_publishes_but_loses_the_answer(sandbox):
    sandbox.faults.drop_after_commit("provisional_grades/publish")
    with http_client(sandbox) as client:
        with pytest.raises(httpx.TransportError):
            client.post(f"{READY}/provisional_grades/publish")
        again = client.post(f"{READY}/provisional_grades/publish")
    assert (again.status_code, again.json()) == (
        400,
        {"message": "Assignment grades have already been published"},
    )


async def test_a_dropped_connection_in_process_is_the_same_httpx_error(sandbox_app):
    sandbox_app.state.faults.drop_next("users/self")
    async with asgi_client(sandbox_app) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(SELF)


# --- the admin routes -----------------------------------------------------------------------


def test_fault_knobs_change_at_runtime_over_http(sandbox):
    with httpx.Client(base_url=sandbox.url) as admin:  # no token needed
        response = admin.put(
            "/__sandbox__/faults",
            json={"latency": 0.05, "fail_next": [{"path": "publish", "status": 500}]},
        )
        assert response.status_code == 200
        assert sandbox.faults.latency == 0.05
        knobs = admin.get("/__sandbox__/faults").json()
        assert knobs["latency"] == 0.05
        assert knobs["injections"] == [
            {"kind": "status", "path": "publish", "status": 500, "times": 1}
        ]
        refused = admin.put("/__sandbox__/faults", json={"latency": 0, "throttle_rate": 7})
        assert refused.status_code == 400
        assert sandbox.faults.latency == 0.05  # a bad request changes nothing
        admin.put("/__sandbox__/faults", json={"reset": True})
        assert sandbox.faults == Faults()
        assert admin.get("/__sandbox__/faults").json()["injections"] == []


def test_admin_routes_are_never_faulted_nor_counted(sandbox):
    sandbox.faults.update({"error_rate": 1.0, "drop_rate": 1.0, "throttle_rate": 1.0})
    with httpx.Client(base_url=sandbox.url) as admin:
        assert admin.get("/__sandbox__/faults").status_code == 200
        stats = admin.get("/__sandbox__/stats").json()
    assert stats["requests"] == 0


def test_stats_count_requests_by_route(sandbox):
    with http_client(sandbox) as client:
        client.get(SELF)
        client.get(f"{ESSAY}/gradeable_students")
        client.get(f"{ESSAY}/gradeable_students", params={"page": 2})
        client.get("/api/v1/nowhere")
        stats = client.get("/__sandbox__/stats").json()
    assert stats["requests"] == 4
    assert stats["by_route"] == {
        "GET /api/v1/courses/{course_id}/assignments/{assignment_id}/gradeable_students": 2,
        "GET /api/v1/users/self": 1,
        "unrouted": 1,
    }


# --- moderate sandbox -------------------------------------------------------------------------


def test_moderate_sandbox_prints_the_url_and_tokens_and_stops_on_ctrl_c():
    # The child restores Python's ctrl-c handler: a test runner started in the background
    # hands its children SIGINT ignored, and a terminal user's ctrl-c is what is tested.
    program = (
        "import argparse, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from tui.commands import sandbox\n"
        "parser = argparse.ArgumentParser()\n"
        "sandbox.add_arguments(parser)\n"
        "sys.exit(sandbox.run(parser.parse_args(['--latency', '0.01'])))\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, "-c", program], stdout=subprocess.PIPE, text=True, env=env, cwd=root
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Sandbox Canvas at http://127.0.0.1:")
        url = first.split(" at ")[1].strip()
        tokens = [process.stdout.readline().split()[0] for _ in range(5)]
        assert tokens[0] == DEMO.final_grader_token
        response = httpx.get(f"{url}{SELF}", headers={"Authorization": f"Bearer {tokens[1]}"})
        assert response.json()["name"] == "Jonas Weber"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Sandbox stopped." in output
