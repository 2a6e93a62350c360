"""What faults cost: requests sent, retries and time, per fault mix, with real retry timing.

    python benchmarks/fault_report.py

For each mix the adapter, with its default retry policy (jittered exponential backoff from
0.5 s), loads the 2,500-student board, accepts every agreement in one bulk request, selects one
grade, and releases a ready assignment. The outcome column says whether each run ended with the
right data or with which clear message. Requests are counted by the sandbox itself.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.board import build_board  # noqa: E402
from tui.canvas.client import CanvasClient  # noqa: E402
from tui.canvas.errors import CanvasError  # noqa: E402
from tui.canvas.moderation import ModerationAPI  # noqa: E402
from tui.sandbox.seed import DEMO, demo_state  # noqa: E402
from tui.sandbox.server import SandboxServer  # noqa: E402
from tui.secret import Secret  # noqa: E402

MIXES = {
    "none": {},
    "latency 2 s": {"latency": 2.0},
    "30% throttled (403)": {"throttle_rate": 0.3, "throttle_status": 403},
    "30% throttled (429)": {"throttle_rate": 0.3, "throttle_status": 429},
    "10% server errors": {"error_rate": 0.1},
    "10% dropped connections": {"drop_rate": 0.1},
    "all of the above, lighter": {
        "latency": 0.2,
        "throttle_rate": 0.15,
        "error_rate": 0.05,
        "drop_rate": 0.05,
    },
}


async def run_mix(server: SandboxServer, faults: dict) -> dict:
    server.faults.reset()
    server.stats.reset()
    server.faults.seed = 11
    server.faults.update(faults)
    client = CanvasClient(server.url, Secret(DEMO.final_grader_token))
    api = ModerationAPI(client)
    started = time.perf_counter()
    outcome = "right data"
    try:
        assignment = await api.get_assignment(DEMO.big_course_id, DEMO.big_assignment_id)
        students = await api.gradeable_students(DEMO.big_course_id, DEMO.big_assignment_id)
        if len(students) != DEMO.big_course_students:
            outcome = f"WRONG: {len(students)} students"
        board = build_board(assignment, students)
        await api.bulk_select(DEMO.big_course_id, DEMO.big_assignment_id, board.agreed_ids())
        row = next(r for r in board.rows if len(r.grades) > 1 and r.selected_id is None)
        await api.select_grade(
            DEMO.big_course_id, DEMO.big_assignment_id, next(iter(row.grades.values())).id
        )
        await api.publish(DEMO.course_id, DEMO.ready_id)
    except CanvasError as error:
        outcome = f"message: {error}"
    finally:
        elapsed = time.perf_counter() - started
        await client.aclose()
    return {
        "requests_sent": server.stats.requests,
        "retries": client.stats.retries,
        "seconds": round(elapsed, 2),
        "outcome": outcome,
    }


async def main() -> int:
    ok = True
    for name, faults in MIXES.items():
        # A fresh Canvas per mix: the release at the end must find an unreleased assignment.
        with SandboxServer(state=demo_state()) as server:
            result = await run_mix(server, faults)
        ok &= result["outcome"] == "right data" or result["outcome"].startswith("message")
        print("BENCH " + json.dumps({"name": f"faults: {name}", **result}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
