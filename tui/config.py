"""Where Moderate keeps its settings, and the profiles in them.

A profile names one Canvas instance: its base URL and the course last opened there. The config
file is TOML under the platform config dir (`MODERATE_CONFIG_DIR` overrides it, which is how
tests stay out of the real one). It never holds a token: tokens live in the environment or the
OS keyring (see `tui.credentials`). It is still written with mode 0600 in a 0700 directory,
because the list of Canvas instances someone grades on is nobody else's business.

No Textual and no secrets here: the CLI, the TUI and the tests all load settings the same way.
(It does share the adapter's URL rule, which imports httpx but never sends anything.)
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import tomli_w

from tui.canvas.client import normalise_base_url
from tui.canvas.errors import CanvasError

__all__ = [
    "APP_NAME",
    "BASE_URL_ENV",
    "CONFIG_DIR_ENV",
    "CONFIG_FILE_NAME",
    "STATE_DIR_ENV",
    "ConfigError",
    "Profile",
    "ProfileNotFoundError",
    "Settings",
    "canvas_host",
    "config_dir",
    "config_path",
    "load_settings",
    "normalise_url",
    "record_last_course",
    "save_settings",
    "select_profile",
    "state_dir",
]

APP_NAME = "moderate"
CONFIG_FILE_NAME = "config.toml"
CONFIG_DIR_ENV = "MODERATE_CONFIG_DIR"
STATE_DIR_ENV = "MODERATE_STATE_DIR"
# The architecture lets CANVAS_BASE_URL stand in for --url.
BASE_URL_ENV = "CANVAS_BASE_URL"


class ConfigError(Exception):
    """The config can't be read, written or understood. `str()` is one sentence to act on."""


class ProfileNotFoundError(ConfigError):
    """A `--profile NAME` that the config does not know."""


# ---------------------------------------------------------------------------------------------
# Paths


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory of config.toml: `MODERATE_CONFIG_DIR`, else the platform's config dir."""
    env = os.environ if environ is None else environ
    override = env.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where run-time records (the audit log) go: `MODERATE_STATE_DIR`, else the platform's."""
    env = os.environ if environ is None else environ
    override = env.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / CONFIG_FILE_NAME


# ---------------------------------------------------------------------------------------------
# URLs


def normalise_url(url: str) -> str:
    """The one spelling of a Canvas base URL, so that a profile is found however it was typed.

    `https://School.Instructure.com:443/api/v1/` becomes `https://school.instructure.com`. The
    rule is the client's own (`normalise_base_url`), so a saved profile is exactly what the
    client will talk to, and an `http://` URL for another machine is never saved.
    """
    try:
        return normalise_base_url(url)
    except CanvasError as error:  # InvalidURLError, InsecureURLError
        raise ConfigError(str(error)) from None


def canvas_host(url_or_host: str) -> str:
    """`school.instructure.com` (with `:port` when not the default): the key of a Canvas instance.

    The keyring stores one token per host, so a profile's name defaults to it too. Something
    without a scheme is taken to be a host already.
    """
    text = url_or_host.strip()
    if "://" not in text:
        return text.rstrip("/").lower()
    return urlsplit(normalise_url(text)).netloc


# ---------------------------------------------------------------------------------------------
# The settings


@dataclass(frozen=True)
class Profile:
    """One Canvas instance: a name to pick it by, its base URL, and the course last opened."""

    name: str
    url: str
    last_course_id: int | None = None

    @property
    def host(self) -> str:
        return canvas_host(self.url)


@dataclass(frozen=True)
class Settings:
    """Everything in config.toml. Immutable: change it with the `with_*` methods, then save."""

    profiles: tuple[Profile, ...] = ()
    default_profile: str | None = None
    path: Path | None = field(default=None, compare=False)

    def by_name(self, name: str) -> Profile | None:
        return next((profile for profile in self.profiles if profile.name == name), None)

    def by_url(self, url: str) -> Profile | None:
        wanted = normalise_url(url)
        return next((profile for profile in self.profiles if profile.url == wanted), None)

    def find(self, name_or_url: str) -> Profile | None:
        """A profile by name first (names are what people type), then by URL."""
        found = self.by_name(name_or_url)
        if found is not None:
            return found
        try:
            return self.by_url(name_or_url)
        except ConfigError:  # not a URL either: simply not found
            return None

    def default(self) -> Profile | None:
        if self.default_profile is None:
            return None
        return self.by_name(self.default_profile)

    def with_profile(self, profile: Profile, *, make_default: bool = False) -> Settings:
        """These settings with `profile` added, or replacing the profile of the same name."""
        others = tuple(p for p in self.profiles if p.name != profile.name)
        # The first profile saved becomes the default, so `moderate` alone knows where to go.
        if make_default or self.default() is None:
            return replace(self, profiles=(*others, profile), default_profile=profile.name)
        return replace(self, profiles=(*others, profile))

    def without_profile(self, name: str) -> Settings:
        others = tuple(p for p in self.profiles if p.name != name)
        default = None if self.default_profile == name else self.default_profile
        return replace(self, profiles=others, default_profile=default)


def select_profile(
    settings: Settings,
    *,
    url: str | None = None,
    name: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """The profile a command means: `--profile NAME`, `--url URL`, `CANVAS_BASE_URL`, the default.

    A URL with no saved profile still works: it gets an unsaved profile named after its host.
    Raises `ProfileNotFoundError` for an unknown name, `ConfigError` when nothing says which
    Canvas to use.
    """
    if name is not None:
        return _select_by_name(settings, name, url)
    env = os.environ if environ is None else environ
    url = url or env.get(BASE_URL_ENV) or None
    if url is not None:
        return settings.by_url(url) or Profile(name=canvas_host(url), url=normalise_url(url))
    default = settings.default()
    if default is None:
        raise ConfigError(
            "No Canvas chosen: give --url URL or --profile NAME "
            "(or run `moderate login --url URL` once to make a default profile)."
        )
    return default


def _select_by_name(settings: Settings, name: str, url: str | None) -> Profile:
    profile = settings.by_name(name)
    if profile is None:
        known = ", ".join(sorted(p.name for p in settings.profiles)) or "none yet"
        raise ProfileNotFoundError(f"There is no profile named {name!r} (profiles: {known}).")
    if url is not None and normalise_url(url) != profile.url:
        raise ConfigError(
            f"Profile {name!r} is for {profile.url}, not {normalise_url(url)}: "
            "give only one of --profile and --url."
        )
    return profile


# ---------------------------------------------------------------------------------------------
# Reading and writing


def load_settings(path: Path | None = None) -> Settings:
    """The settings in `path` (default: `config_path()`); empty settings when there is no file."""
    path = config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(path=path)
    except OSError as error:
        raise ConfigError(f"Cannot read the config file {path}: {error.strerror}.") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(
            f"The config file {path} is not valid TOML ({error}); fix it or delete it."
        ) from None
    return _settings_from_document(document, path)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (a reader sees the old file or the new one, never half)."""
    path = path or settings.path or config_path()
    data = tomli_w.dumps(_document_from_settings(settings)).encode("utf-8")
    try:
        _ensure_private_dir(path.parent)
        _write_private_file_atomically(path, data)
    except OSError as error:
        raise ConfigError(f"Cannot write the config file {path}: {error.strerror}.") from None
    return path


def record_last_course(profile: Profile, course_id: int, path: Path | None = None) -> Settings:
    """Remember the course just opened, so the next start can go straight back to it."""
    settings = load_settings(path)
    saved = settings.by_name(profile.name) or profile
    updated = settings.with_profile(replace(saved, last_course_id=course_id))
    save_settings(updated, path or settings.path)
    return updated


def _settings_from_document(document: dict[str, Any], path: Path) -> Settings:
    def invalid(what: str) -> ConfigError:
        return ConfigError(f"The config file {path} is not valid: {what}; fix it or delete it.")

    tables = document.get("profiles", {})
    if not isinstance(tables, dict):
        raise invalid("'profiles' must be a table of profiles")
    profiles = []
    for name, table in tables.items():
        if not isinstance(table, dict) or not isinstance(table.get("url"), str):
            raise invalid(f"profile {name!r} needs a url")
        course = table.get("last_course_id")
        if course is not None and (not isinstance(course, int) or isinstance(course, bool)):
            raise invalid(f"last_course_id of profile {name!r} must be a whole number")
        try:
            url = normalise_url(table["url"])
        except ConfigError:
            raise invalid(f"the url of profile {name!r} is not a Canvas URL") from None
        profiles.append(Profile(name=name, url=url, last_course_id=course))
    default = document.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise invalid("default_profile must be a profile name")
    return Settings(profiles=tuple(profiles), default_profile=default, path=path)


def _document_from_settings(settings: Settings) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if settings.default_profile is not None:
        document["default_profile"] = settings.default_profile
    profiles: dict[str, Any] = {}
    for profile in settings.profiles:
        table: dict[str, Any] = {"url": profile.url}
        if profile.last_course_id is not None:  # TOML has no null: leave the key out
            table["last_course_id"] = profile.last_course_id
        profiles[profile.name] = table
    document["profiles"] = profiles
    return document


def _ensure_private_dir(directory: Path) -> None:
    """Create the config dir as 0700. An existing dir is left as its owner set it."""
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)  # mkdir's mode is filtered by the umask; chmod is exact


def _write_private_file_atomically(path: Path, data: bytes) -> None:
    """Write a 0600 temp file beside `path`, flush it to disk, then rename it over `path`.

    mkstemp creates the temp file as 0600 from its first byte, so there is no moment where
    another user could read it, and the rename keeps that mode.
    """
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
