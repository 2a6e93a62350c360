"""`moderate login`, `moderate logout` and `moderate status`.

Each `run_*` takes the argparse namespace (attributes `url`, `profile`, and for login
`token_stdin`) and returns the exit code: 0 ok, 2 usage, 1 any other failure, reported as one
sentence on stderr (NoTokenError adds the commands to copy). Nothing here prints a token: only
`Secret.masked` (`****` and the last 4 characters) ever reaches the screen.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from tui import config, credentials
from tui.canvas.client import CanvasClient
from tui.canvas.errors import CanvasError
from tui.canvas.models import User
from tui.canvas.moderation import ModerationAPI
from tui.secret import Secret

__all__ = [
    "add_login_arguments",
    "add_logout_arguments",
    "add_status_arguments",
    "run_login",
    "run_logout",
    "run_status",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Exit(Exception):
    """Stops a command with an exit code and the message for stderr."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# Arguments


def add_login_arguments(parser: argparse.ArgumentParser) -> None:
    _add_target_arguments(parser)
    parser.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the token from the first line of standard input instead of asking for it",
    )


def add_logout_arguments(parser: argparse.ArgumentParser) -> None:
    _add_target_arguments(parser)


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    _add_target_arguments(parser)


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="Canvas base URL, e.g. https://school.instructure.com")
    parser.add_argument("--profile", metavar="NAME", help="a profile saved by `moderate login`")


# ---------------------------------------------------------------------------------------------
# Commands


def run_login(args: argparse.Namespace) -> int:
    """Ask for a token, check it with Canvas, store it in the keyring, save the profile."""
    return _run("login", _login, args)


def run_logout(args: argparse.Namespace) -> int:
    """Remove the Canvas host's token from the keyring (the profile stays, without a secret)."""
    return _run("logout", _logout, args)


def run_status(args: argparse.Namespace) -> int:
    """Which Canvas, which user, where the token came from, and the token masked."""
    return _run("status", _status, args)


def _run(command: str, body: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    try:
        body(args)
    except _Exit as stop:
        print(f"moderate {command}: {stop.message}", file=sys.stderr)
        return stop.code
    return EXIT_OK


def _login(args: argparse.Namespace) -> None:
    settings = _load_settings()
    profile = _login_profile(settings, args)
    # Before asking for the token: don't make anyone paste a secret only to be told it can't
    # be kept. There is deliberately no fallback to a file.
    keyring_state = credentials.keyring_status()
    if not keyring_state.available:
        raise _Exit(
            EXIT_FAILURE,
            f"{keyring_state.reason} Nothing was stored. Without a keyring, set "
            f"{credentials.TOKEN_ENV} instead, or run the login inside a private keyring:\n"
            f"    {credentials.keyring_session_command(_login_command(profile))}",
        )
    token = _read_token(args, profile.host)
    user = _check_with_canvas(profile.url, token, then="Nothing was stored.")
    try:
        backend = credentials.store_token(profile.url, token)
    except credentials.KeyringError as error:
        raise _Exit(EXIT_FAILURE, f"{error} The token was checked but not stored.") from None
    path = _save_settings(settings.with_profile(profile, make_default=True))
    print(
        f"Logged in to {profile.url} as {_printable(user.name)} (user {user.id}). "
        f"Token {token.masked} stored in the keyring ({backend}); "
        f"profile {profile.name!r} saved in {path}."
    )
    _warn_if_env_token_overrides()


def _logout(args: argparse.Namespace) -> None:
    profile = _select_profile(_load_settings(), args)
    try:
        removed = credentials.delete_token(profile.url)
    except credentials.KeyringError as error:
        raise _Exit(EXIT_FAILURE, str(error)) from None
    if removed:
        print(f"Removed the token for {profile.host} from the keyring.")
    else:
        print(f"The keyring held no token for {profile.host}; nothing to remove.")
    _warn_if_env_token_overrides()


def _status(args: argparse.Namespace) -> None:
    settings = _load_settings()
    profile = _select_profile(settings, args)
    try:
        resolved = credentials.resolve_token(profile.url)
    except credentials.NoTokenError as error:
        raise _Exit(EXIT_FAILURE, str(error)) from None
    saved = settings.by_name(profile.name) is not None
    print(f"Canvas:  {profile.url} ({f'profile {profile.name}' if saved else 'no saved profile'})")
    print(f"Token:   {resolved.secret.masked} from {resolved.source}")
    user = _check_with_canvas(profile.url, resolved.secret, then="")
    print(f"User:    {_printable(user.name)} (user {user.id})")


# ---------------------------------------------------------------------------------------------
# Steps


def _load_settings() -> config.Settings:
    try:
        return config.load_settings()
    except config.ConfigError as error:
        raise _Exit(EXIT_FAILURE, str(error)) from None


def _save_settings(settings: config.Settings) -> Path:
    try:
        return config.save_settings(settings)
    except config.ConfigError as error:
        raise _Exit(EXIT_FAILURE, f"{error} The token is in the keyring.") from None


def _select_profile(settings: config.Settings, args: argparse.Namespace) -> config.Profile:
    try:
        return config.select_profile(settings, url=args.url, name=args.profile)
    except config.ConfigError as error:  # an unknown name, a bad URL, or no Canvas at all
        raise _Exit(EXIT_USAGE, str(error)) from None


def _login_profile(settings: config.Settings, args: argparse.Namespace) -> config.Profile:
    """`--profile NAME --url URL` (re)defines that profile; otherwise as for any command."""
    if args.profile is None or args.url is None:
        return _select_profile(settings, args)
    try:
        url = config.normalise_url(args.url)
    except config.ConfigError as error:
        raise _Exit(EXIT_USAGE, str(error)) from None
    existing = settings.by_name(args.profile)
    if existing is not None and existing.url == url:
        return existing
    return config.Profile(name=args.profile, url=url)


def _read_token(args: argparse.Namespace, host: str) -> Secret:
    """One line from stdin with --token-stdin, else a hidden prompt on the terminal."""
    try:
        if args.token_stdin:
            line = sys.stdin.readline()
        elif sys.stdin.isatty():
            line = getpass.getpass(f"Canvas access token for {host} (input hidden): ")
        else:
            raise _Exit(EXIT_USAGE, "No terminal to ask for the token on: use --token-stdin.")
    except (EOFError, KeyboardInterrupt):
        raise _Exit(EXIT_FAILURE, "Cancelled; nothing was stored.") from None
    token = line.strip()
    if not token:
        raise _Exit(EXIT_FAILURE, "No token was given; nothing was stored.")
    return Secret(token)


def _check_with_canvas(url: str, token: Secret, *, then: str) -> User:
    """Ask Canvas who the token belongs to (users/self). `then` finishes a failure message."""
    try:
        return asyncio.run(_current_user(url, token))
    except CanvasError as error:
        raise _Exit(EXIT_FAILURE, f"{error} {then}".strip()) from None


async def _current_user(url: str, token: Secret) -> User:
    async with CanvasClient(url, token) as client:
        return await ModerationAPI(client).current_user()


def _login_command(profile: config.Profile) -> str:
    command = f"moderate login --url {shlex.quote(profile.url)}"
    if profile.name != profile.host:
        command += f" --profile {shlex.quote(profile.name)}"
    return command


def _printable(text: str) -> str:
    """Canvas names go to the terminal as they are, minus control characters (ESC and friends),
    which could otherwise rewrite what the terminal shows."""
    return "".join(character for character in text if character.isprintable())


def _warn_if_env_token_overrides() -> None:
    if credentials.env_token() is not None:
        print(
            f"Note: {credentials.TOKEN_ENV} is set, and it takes precedence over the keyring.",
            file=sys.stderr,
        )
