"""One exception hierarchy for everything that can go wrong talking to Canvas.

Each error carries Canvas's own message (when it sent one), the HTTP method and the path, and
never the token or the query string. `str(error)` is one clear sentence that a grader can act
on; the CLI prints it on stderr and the TUI puts it in a notification.
"""

from __future__ import annotations

from tui.text import safe_text

__all__ = [
    "AlreadyPublishedError",
    "BadRequestError",
    "CanvasError",
    "ExpiredTokenError",
    "InsecureURLError",
    "InvalidTokenError",
    "InvalidURLError",
    "NetworkError",
    "NotFoundError",
    "NotModeratedError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitedError",
    "ServerError",
    "UnselectedGradesError",
]


class CanvasError(Exception):
    """Base class. `summary` is the sentence a user reads; Canvas's words follow it."""

    summary = "Canvas could not complete the request."
    # False for errors Moderate finds itself (a bad URL, a dropped connection, a malformed
    # answer): their detail is ours, and must not be presented as Canvas's words.
    quotes_canvas = True

    def __init__(
        self,
        canvas_message: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        # Canvas's words are text from a server: make them safe for a terminal here, once, so
        # that neither the CLI's stderr nor the TUI can be repainted by an error body.
        self.canvas_message = safe_text(canvas_message) if canvas_message else canvas_message
        self.method = method
        self.path = path
        self.status = status
        super().__init__(self.sentence)

    @property
    def sentence(self) -> str:
        text = self.summary
        detail = (self.canvas_message or "").strip().rstrip(".")
        if not detail or detail in text:
            return text
        if self.quotes_canvas:
            return f"{text} Canvas said: {detail}."
        return f"{text} ({detail})"

    @property
    def request(self) -> str:
        """`GET /api/v1/...`: for logs and the details line, never shown with a query string."""
        return " ".join(part for part in (self.method, self.path) if part)

    def __str__(self) -> str:
        return self.sentence

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(canvas_message={self.canvas_message!r}, "
            f"method={self.method!r}, path={self.path!r}, status={self.status!r})"
        )


class InsecureURLError(CanvasError):
    summary = "Refusing to send a token over plain http:// to a host that is not this machine."
    quotes_canvas = False


class InvalidURLError(CanvasError, ValueError):
    """The Canvas URL is not something Moderate can talk to (no scheme, no host, a query...)."""

    summary = "That is not a Canvas URL: give it like https://school.instructure.com."
    quotes_canvas = False


class InvalidTokenError(CanvasError):
    summary = "Canvas did not accept the access token: check it, or create a new one."


class ExpiredTokenError(InvalidTokenError):
    summary = "The access token has expired or was revoked: create a new one in Canvas."


class PermissionDeniedError(CanvasError):
    summary = "You do not have permission to do that in Canvas."


class NotFoundError(CanvasError):
    summary = "Canvas could not find that course, assignment or student."


class NotModeratedError(CanvasError):
    summary = "This assignment does not use moderated grading."


class AlreadyPublishedError(CanvasError):
    summary = "Grades for this assignment have already been released."


class UnselectedGradesError(CanvasError):
    summary = "Some students still need a selected grade before release."


class BadRequestError(CanvasError):
    summary = "Canvas refused the request."


class RateLimitedError(CanvasError):
    summary = "Canvas is throttling requests; wait a minute and try again."


class ServerError(CanvasError):
    summary = "Canvas had an internal error; try again shortly."


class NetworkError(CanvasError):
    summary = "Could not reach Canvas: check the network and the URL."
    quotes_canvas = False


class ProtocolError(CanvasError):
    summary = "Canvas sent an answer Moderate does not understand."
    quotes_canvas = False
