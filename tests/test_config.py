"""Profiles in config.toml: round trip, private file modes, clear errors, profile selection."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui import config
from tui.config import ConfigError, Profile, ProfileNotFoundError, Settings


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own config dir; nobody's real config is read or written."""
    directory = tmp_path / "config" / "moderate"
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(directory))
    monkeypatch.delenv(config.BASE_URL_ENV, raising=False)
    return directory


def two_profiles() -> Settings:
    return (
        Settings()
        .with_profile(Profile("school", "https://school.instructure.com", last_course_id=101))
        .with_profile(Profile("test", "https://school.test.instructure.com"))
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_settings_survive_a_save_and_load(config_home):
    saved = two_profiles()
    path = config.save_settings(saved)

    assert path == config_home / "config.toml"
    loaded = config.load_settings()
    assert loaded == saved
    assert loaded.default().name == "school"  # the first profile saved is the default
    assert loaded.by_name("test").last_course_id is None


def test_the_file_is_readable_toml_with_no_surprises(config_home):
    config.save_settings(two_profiles())

    text = (config_home / "config.toml").read_text()
    assert 'default_profile = "school"' in text
    assert "[profiles.school]" in text
    assert 'url = "https://school.instructure.com"' in text
    assert "last_course_id = 101" in text


def test_file_is_0600_and_a_new_directory_0700(config_home):
    config.save_settings(two_profiles())

    assert mode(config_home) == 0o700
    assert mode(config_home / "config.toml") == 0o600


def test_saving_over_a_loose_file_leaves_it_private_and_no_temp_files(config_home):
    config_home.mkdir(parents=True)
    loose = config_home / "config.toml"
    loose.write_text("")
    loose.chmod(0o644)

    config.save_settings(two_profiles())
    config.save_settings(two_profiles().without_profile("test"))

    assert mode(loose) == 0o600
    assert [p.name for p in config_home.iterdir()] == ["config.toml"]
    assert config.load_settings().by_name("test") is None


def test_no_file_means_no_profiles_yet():
    settings = config.load_settings()

    assert settings.profiles == ()
    assert settings.default() is None


def test_corrupt_toml_is_one_clear_sentence_naming_the_file(config_home):
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text('[profiles.school\nurl = "x"\n')

    with pytest.raises(ConfigError) as caught:
        config.load_settings()

    message = str(caught.value)
    assert str(config_home / "config.toml") in message
    assert "not valid TOML" in message
    assert "line 1" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("profiles = 3\n", "'profiles' must be a table"),
        ("[profiles.school]\nlast_course_id = 1\n", "profile 'school' needs a url"),
        (
            '[profiles.school]\nurl = "https://s.example"\nlast_course_id = "x"\n',
            "must be a whole number",
        ),
        ('[profiles.school]\nurl = "ftp://s.example"\n', "not a Canvas URL"),
        ("default_profile = 1\n", "default_profile must be a profile name"),
    ],
)
def test_well_formed_toml_with_wrong_shapes_is_explained(config_home, document, complaint):
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text(document)

    with pytest.raises(ConfigError, match=complaint):
        config.load_settings()


def test_a_profile_is_found_however_its_url_is_typed():
    settings = two_profiles()

    for typed in (
        "https://school.instructure.com",
        "https://School.Instructure.com/",
        "https://school.instructure.com:443/api/v1/",
    ):
        assert settings.by_url(typed).name == "school"
        assert settings.find(typed).name == "school"
    assert settings.find("test").url == "https://school.test.instructure.com"
    assert settings.find("nobody") is None


def test_the_canvas_host_keeps_a_port_that_is_not_the_default():
    assert config.canvas_host("https://school.instructure.com:443/") == "school.instructure.com"
    assert config.canvas_host("http://127.0.0.1:8123") == "127.0.0.1:8123"
    assert config.canvas_host("School.Instructure.com") == "school.instructure.com"


def test_plain_http_to_another_machine_is_never_saved_as_a_profile():
    with pytest.raises(ConfigError, match="plain http://"):
        config.normalise_url("http://school.instructure.com")


def test_saving_a_profile_of_the_same_name_replaces_it():
    settings = two_profiles().with_profile(Profile("school", "https://other.instructure.com"))

    assert [p.name for p in settings.profiles] == ["test", "school"]
    assert settings.by_name("school").url == "https://other.instructure.com"
    assert settings.default_profile == "school"


def test_make_default_moves_the_default_and_removing_it_clears_it():
    settings = two_profiles().with_profile(
        Profile("test", "https://school.test.instructure.com"), make_default=True
    )
    assert settings.default().name == "test"

    assert settings.without_profile("test").default() is None


def test_select_by_name_url_environment_then_default(monkeypatch):
    settings = two_profiles()

    assert config.select_profile(settings, name="test").name == "test"
    assert config.select_profile(settings, url="https://School.instructure.com").name == "school"
    monkeypatch.setenv(config.BASE_URL_ENV, "https://school.test.instructure.com")
    assert config.select_profile(settings).name == "test"
    monkeypatch.delenv(config.BASE_URL_ENV)
    assert config.select_profile(settings).name == "school"


def test_a_url_without_a_profile_gets_an_unsaved_one_named_after_its_host():
    profile = config.select_profile(Settings(), url="https://other.instructure.com/")

    assert profile == Profile("other.instructure.com", "https://other.instructure.com")


def test_an_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(
        ProfileNotFoundError, match=r"no profile named 'nope' \(profiles: school, test"
    ):
        config.select_profile(two_profiles(), name="nope")


def test_a_profile_and_a_different_url_contradict_each_other():
    with pytest.raises(ConfigError, match="give only one of --profile and --url"):
        config.select_profile(two_profiles(), name="school", url="https://other.example")


def test_nothing_to_go_on_says_how_to_choose_a_canvas():
    with pytest.raises(ConfigError, match=r"give --url URL or --profile NAME"):
        config.select_profile(Settings())


def test_the_last_course_is_remembered_for_the_next_start():
    config.save_settings(two_profiles())

    config.record_last_course(Profile("test", "https://school.test.instructure.com"), 777)

    assert config.load_settings().by_name("test").last_course_id == 777
    assert config.load_settings().by_name("school").last_course_id == 101


def test_paths_come_from_the_environment_or_the_platform(tmp_path):
    assert config.config_path({config.CONFIG_DIR_ENV: str(tmp_path)}) == tmp_path / "config.toml"
    assert config.state_dir({config.STATE_DIR_ENV: str(tmp_path)}) == tmp_path
    assert config.config_dir({}).name == "moderate"
    assert config.state_dir({}).name == "moderate"
