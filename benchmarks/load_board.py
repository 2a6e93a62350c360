"""Load the 2,500-student moderation board three ways against a sandbox with 50 ms latency.

    python benchmarks/load_board.py [--latency 0.05] [--students 2500]

(a) Moderate's adapter: `ModerationAPI.gradeable_students` (per_page=100, the other pages
    fetched concurrently once `rel="last"` gives the count);
(b) canvasapi, the Python peer: `get_gradeable_students` (a PaginatedList, per_page=100,
    following `next` one page at a time), run in a worker thread;
(c) Canvas's own moderation page: follows `next` one page at a time at per_page=20;
(d) for reference, not a target: a bare httpx loop following `next` at per_page=100, which
    separates what concurrency wins from what canvasapi's own per-page work costs.

Same sandbox, same data, one run. Request counts come from the sandbox's own counter, so every
client is measured the same way. Wall time is `time.perf_counter` around the listing only
(canvasapi's get_course/get_assignment set-up is done before its clock starts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

# Runnable as a plain script from a checkout: `python benchmarks/load_board.py`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.canvas.client import CanvasClient  # noqa: E402
from tui.canvas.moderation import GRADEABLE_STUDENT_PARAMS, ModerationAPI  # noqa: E402
from tui.sandbox.faults import Faults  # noqa: E402
from tui.sandbox.seed import DEMO, build_moderated_course, demo_state  # noqa: E402
from tui.sandbox.server import SandboxServer  # noqa: E402
from tui.secret import Secret  # noqa: E402


@dataclass
class Run:
    name: str
    seconds: float
    requests: int
    student_keys: list[str]


def _key(row: dict) -> str:
    return f"user:{row['id']}" if row.get("id") is not None else f"anonymous:{row['anonymous_id']}"


def _gradeable_path(course_id: int, assignment_id: int) -> str:
    return f"/api/v1/courses/{course_id}/assignments/{assignment_id}/gradeable_students"


async def _measure(server: SandboxServer, name: str, load: Callable) -> Run:
    before = server.stats.requests
    started = time.perf_counter()
    keys = await load()
    seconds = time.perf_counter() - started
    return Run(name, seconds, server.stats.requests - before, keys)


async def moderate_adapter(server: SandboxServer, course_id: int, assignment_id: int) -> list[str]:
    async with CanvasClient(server.url, Secret(server.token)) as client:
        students = await ModerationAPI(client).gradeable_students(course_id, assignment_id)
    return [student.key for student in students]


def canvasapi_setup(server: SandboxServer, course_id: int, assignment_id: int):
    from canvasapi import Canvas

    with warnings.catch_warnings():
        # canvasapi warns about http:// URLs; the sandbox is on loopback, on purpose.
        warnings.simplefilter("ignore", UserWarning)
        canvas = Canvas(server.url, server.token)
    return canvas.get_course(course_id).get_assignment(assignment_id)


def canvasapi_list(assignment) -> list[str]:
    rows = assignment.get_gradeable_students(
        include=["provisional_grades"], allow_new_anonymous_id="true"
    )
    # canvasapi builds UserDisplay objects; their attributes are the JSON fields.
    return [_key(vars(row)) for row in rows]


async def next_link_follower(
    server: SandboxServer, course_id: int, assignment_id: int, per_page: int = 20
) -> list[str]:
    """What Canvas's moderation page does: one page at a time, following rel="next"."""
    headers = {"Authorization": f"Bearer {server.token}", "Accept": "application/json"}
    params = [*GRADEABLE_STUDENT_PARAMS, ("per_page", per_page)]
    keys: list[str] = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        url: str | None = server.url + _gradeable_path(course_id, assignment_id)
        response = await http.get(url, params=params)
        while True:
            response.raise_for_status()
            keys.extend(_key(row) for row in response.json())
            url = response.links.get("next", {}).get("url")
            if not url:
                return keys
            response = await http.get(url)


def _table(runs: list[Run]) -> str:
    moderate = runs[0]
    lines = [
        f"{'client':<48} {'wall (s)':>9} {'requests':>9} {'students':>9} {'Moderate is':>13}",
        "-" * 92,
    ]
    for run in runs:
        ratio = "-" if run is moderate else f"{run.seconds / moderate.seconds:.1f}x faster"
        lines.append(
            f"{run.name:<48} {run.seconds:>9.2f} {run.requests:>9d} "
            f"{len(run.student_keys):>9d} {ratio:>13}"
        )
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument(
        "--students", type=int, default=2500, help="2500 uses the demo seed's big course"
    )
    args = parser.parse_args(argv)

    state = demo_state()
    if args.students == 2500:
        course_id, assignment_id = DEMO.big_course_id, DEMO.big_assignment_id
    else:
        course_id, assignment_id = build_moderated_course(state, students=args.students, graders=3)

    async with SandboxServer(state=state, faults=Faults(latency=args.latency)) as server:
        runs = [
            await _measure(
                server,
                "(a) Moderate adapter (per_page=100, concurrent)",
                lambda: moderate_adapter(server, course_id, assignment_id),
            ),
        ]
        assignment = await asyncio.to_thread(canvasapi_setup, server, course_id, assignment_id)
        runs.append(
            await _measure(
                server,
                "(b) canvasapi (per_page=100, sequential)",
                lambda: asyncio.to_thread(canvasapi_list, assignment),
            )
        )
        runs.append(
            await _measure(
                server,
                "(c) next links at per_page=20 (web page)",
                lambda: next_link_follower(server, course_id, assignment_id),
            )
        )
        runs.append(
            await _measure(
                server,
                "(d) next links at per_page=100 (bare httpx)",
                lambda: next_link_follower(server, course_id, assignment_id, per_page=100),
            )
        )

    print(
        f"Loading {len(runs[0].student_keys):,} students, sandbox latency {args.latency * 1000:.0f} ms"
    )
    print(_table(runs))
    same = all(run.student_keys == runs[0].student_keys for run in runs)
    print(f"same students in the same order from every client: {'yes' if same else 'NO'}")
    canvasapi_ratio = runs[1].seconds / runs[0].seconds
    web_ratio = runs[2].seconds / runs[0].seconds
    targets_met = canvasapi_ratio >= 3 and web_ratio >= 10
    print(
        f"targets (>=3x canvasapi, >=10x per_page=20): "
        f"{canvasapi_ratio:.1f}x, {web_ratio:.1f}x -> {'met' if targets_met else 'NOT met'}"
    )
    # One line per figure for benchmarks/run_all.py.
    for run in runs:
        figure = {"name": run.name, "seconds": round(run.seconds, 3), "requests": run.requests}
        print("BENCH " + json.dumps(figure))
    return 0 if same and targets_met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
