"""The Canvas adapter: everything that speaks HTTP to Canvas. Never imports Textual."""

from tui.canvas.client import (
    CanvasClient,
    ClientStats,
    InvalidURLError,
    Page,
    RetryPolicy,
    normalise_base_url,
)
from tui.canvas.errors import (
    AlreadyPublishedError,
    BadRequestError,
    CanvasError,
    ExpiredTokenError,
    InsecureURLError,
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
from tui.canvas.moderation import ModerationAPI, StudentPage

__all__ = [
    "AlreadyPublishedError",
    "BadRequestError",
    "CanvasClient",
    "CanvasError",
    "ClientStats",
    "ExpiredTokenError",
    "InsecureURLError",
    "InvalidTokenError",
    "InvalidURLError",
    "ModerationAPI",
    "NetworkError",
    "NotFoundError",
    "NotModeratedError",
    "Page",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "StudentPage",
    "UnselectedGradesError",
    "normalise_base_url",
]
