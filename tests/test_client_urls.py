"""The Canvas URL a user types, and the refusal to send a token where it could be read."""

from __future__ import annotations

import httpx
import pytest

from tui.canvas.client import CanvasClient, InvalidURLError, normalise_base_url
from tui.canvas.errors import InsecureURLError
from tui.canvas.moderation import ModerationAPI
from tui.secret import Secret


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("https://school.instructure.com", "https://school.instructure.com"),
        ("https://school.instructure.com/", "https://school.instructure.com"),
        ("https://school.instructure.com/api/v1", "https://school.instructure.com"),
        ("https://school.instructure.com/api/v1/", "https://school.instructure.com"),
        ("  HTTPS://School.Instructure.COM/  ", "https://school.instructure.com"),
        ("https://canvas.example.edu:8443/", "https://canvas.example.edu:8443"),
        ("https://example.edu/canvas/api/v1", "https://example.edu/canvas"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://127.8.9.10/api/v1", "http://127.8.9.10"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_base_url_is_normalised(typed: str, normalised: str) -> None:
    assert normalise_base_url(typed) == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "http://school.instructure.com",
        "http://school.instructure.com/api/v1",
        "http://10.0.0.5",
        "http://192.168.1.1:3000",
        "http://[::2]",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_another_machine_is_refused(typed: str) -> None:
    with pytest.raises(InsecureURLError) as caught:
        normalise_base_url(typed)
    assert "http://" in str(caught.value)


@pytest.mark.parametrize(
    "typed",
    [
        "school.instructure.com",
        "ftp://school.instructure.com",
        "https://",
        "https://user:pass@school.instructure.com",
        "https://school.instructure.com/?x=1",
        "",
    ],
)
def test_something_that_is_not_a_canvas_url_is_refused(typed: str) -> None:
    with pytest.raises(InvalidURLError):
        normalise_base_url(typed)


async def test_insecure_url_sends_nothing_at_all() -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": 1, "name": "x"})

    with pytest.raises(InsecureURLError):
        CanvasClient(
            "http://school.instructure.com",
            Secret("1~secret-token-value-0000"),
            transport=httpx.MockTransport(record),
        )
    assert sent == []


async def test_token_must_be_a_secret() -> None:
    with pytest.raises(TypeError):
        CanvasClient("https://school.instructure.com", "plain-string-token")  # type: ignore[arg-type]


async def test_client_names_its_host_and_base_url() -> None:
    async with CanvasClient(
        "https://School.Instructure.com/api/v1/", Secret("1~tok-0000000000")
    ) as client:
        assert client.base_url == "https://school.instructure.com"
        assert client.host == "school.instructure.com"
        assert "1~tok" not in repr(client)
        assert ModerationAPI(client).client is client
