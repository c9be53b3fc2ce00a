"""Settings precedence and validation: flags > INPUT_* > OIC_* > .env > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from oicaction.errors import SettingsError
from oicaction.oic.config import auth_kind, missing_server_settings
from oicaction.settings import Settings, input_name, load_settings


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({}, tmp_path / "absent.env")
    assert s.integration_path == "."
    assert s.artifact_dir == Path("oic-artifacts")
    assert s.manage_connections is True
    assert s.manage_lookups is True
    assert s.max_workers == 4
    assert s.missing_connections == "error"


def test_precedence_each_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "x.env"
    env_file.write_text(
        "OIC_INTEGRATION_PATH=from-dotenv\nOIC_ARTIFACT_DIR=dotenv-art\n"
        "OIC_OIC_URL=https://dotenv.example\nOIC_SCOPE=dotenv-scope\n"
    )
    monkeypatch.setenv("OIC_INTEGRATION_PATH", "from-oic-env")
    monkeypatch.setenv("OIC_ARTIFACT_DIR", "oic-env-art")
    monkeypatch.setenv("OIC_OIC_URL", "https://oicenv.example")
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", "from-input")
    monkeypatch.setenv("INPUT_ARTIFACT-DIR", "input-art")
    s = load_settings({"integration_path": "from-flag"}, env_file)
    assert s.integration_path == "from-flag"  # flag beats input
    assert s.artifact_dir == Path("input-art")  # input beats OIC_
    assert s.oic_url == "https://oicenv.example"  # OIC_ beats .env
    assert s.scope == "dotenv-scope"  # .env beats default


def test_empty_input_falls_through(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The runner passes every declared input, empty when not given."""
    monkeypatch.setenv("INPUT_INTEGRATION-PATH", "  ")
    monkeypatch.setenv("OIC_INTEGRATION_PATH", "src")
    assert load_settings({}, tmp_path / "none").integration_path == "src"


def test_env_file_from_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("OIC_MANAGE_LOOKUPS=no\n")
    monkeypatch.setenv("OIC_ENV_FILE", str(env_file))
    assert load_settings({}).manage_lookups is False


def test_dotenv_in_cwd_is_read(tmp_path: Path) -> None:
    Path(".env").write_text("OIC_MANAGE_CONNECTIONS=FALSE\n")
    assert load_settings({}).manage_connections is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("0", False),
        ("fAlSe", False),
    ],
)
def test_booleans(
    raw: str, expected: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INPUT_MANAGE-CONNECTIONS", raw)
    assert load_settings({}, tmp_path / "none").manage_connections is expected


@pytest.mark.parametrize("raw", ["maybe", "on", "y", "2", "tru"])
def test_bad_boolean_names_the_input(
    raw: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INPUT_MANAGE-LOOKUPS", raw)
    with pytest.raises(SettingsError) as err:
        load_settings({}, tmp_path / "none")
    message = str(err.value)
    assert "manage-lookups" in message and "INPUT_MANAGE-LOOKUPS" in message
    assert repr(raw) not in message and "\n" not in message  # the value is never shown
    assert err.value.exit_code == 2


def test_bad_value_from_flag_and_dotenv_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="flag --max-workers"):
        load_settings({"max_workers": "0"}, tmp_path / "none")
    env_file = tmp_path / "bad.env"
    env_file.write_text("OIC_MISSING_CONNECTIONS=ignore\n")
    with pytest.raises(SettingsError, match=r"OIC_MISSING_CONNECTIONS in .*bad\.env"):
        load_settings({}, env_file)


def test_secret_values_hidden_in_errors_and_repr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OIC_PASSWORD", "hunter2-secret")
    s = load_settings({}, tmp_path / "none")
    assert "hunter2-secret" not in repr(s)
    assert s.secret_values() == ["hunter2-secret"]


def test_missing_server_settings(tmp_path: Path) -> None:
    s = load_settings({}, tmp_path / "none")
    assert missing_server_settings(s) == [
        "oic-url",
        "username+password or client-id+client-secret+token-url+scope",
    ]
    s = load_settings({"oic_url": "https://x", "client_id": "id"}, tmp_path / "none")
    assert missing_server_settings(s) == ["client-secret", "token-url", "scope"]
    s = load_settings({"oic_url": "https://x", "username": "u", "password": "p"}, tmp_path / "n")
    assert missing_server_settings(s) == []


@pytest.mark.parametrize(
    ("given", "kind", "missing"),
    [
        ({"client_id": "i", "username": "u", "password": "p"}, "basic", []),
        ({"client_id": "i", "client_secret": "s", "token_url": "https://t", "username": "u",
          "scope": "x"}, "oauth", []),
        ({"client_id": "i", "client_secret": "s", "token_url": "https://t", "username": "u",
          "password": "p"}, "oauth", ["scope"]),
        ({"client_id": "i", "username": "u"}, "oauth", ["client-secret", "token-url", "scope"]),
        ({"password": "p"}, "basic", ["username"]),
    ],
)  # fmt: skip
def test_one_rule_picks_the_way_to_log_in(
    tmp_path: Path, given: dict[str, str], kind: str, missing: list[str]
) -> None:
    """Complete OAuth, else complete basic, else the one partly given; the export uses it."""
    s = load_settings({"oic_url": "https://x", **given}, tmp_path / "none")
    assert (auth_kind(s), missing_server_settings(s)) == (kind, missing)


def test_scope_is_named_with_the_other_oauth_settings_in_one_message(tmp_path: Path) -> None:
    """One run tells everything OAuth lacks, scope included, and how a scope looks."""
    from oicaction.oic.auth import SCOPE_HINT
    from oicaction.oic.config import server_config

    s = load_settings({"oic_url": "https://x", "client_id": "id"}, tmp_path / "none")
    with pytest.raises(SettingsError) as raised:
        server_config(s)
    assert str(raised.value) == (
        f"server settings are missing: client-secret, token-url, scope ({SCOPE_HINT})"
    )


# -- values never shown, .env read literally (issue 18, item 6) ------------------------------

HIDDEN = "Hunter2-Env-Secret"


def test_dotenv_does_not_expand_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A committed .env cannot pull a variable of the runner (a secret) into a setting."""
    monkeypatch.setenv("OIC_PASSWORD", HIDDEN)
    monkeypatch.setenv("SOME_URL", "https://expanded.example")
    env_file = tmp_path / ".env"
    env_file.write_text("OIC_SCOPE=${OIC_PASSWORD}\nOIC_OIC_URL=$SOME_URL\nOIC_CLIENT_ID=a${X}b\n")
    s = load_settings({}, env_file)
    assert (s.scope, s.oic_url, s.client_id) == ("${OIC_PASSWORD}", "$SOME_URL", "a${X}b")


def test_dotenv_interpolating_a_secret_into_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`OIC_MODE=${OIC_PASSWORD}` printed the password, lower-cased past the redaction."""
    from conftest import run_cli

    monkeypatch.setenv("OIC_PASSWORD", HIDDEN)
    Path(".env").write_text("OIC_MODE=${OIC_PASSWORD}\nOIC_MAX_WORKERS=${OIC_PASSWORD}\n")
    assert run_cli("--manage-connections", "false") == 2
    err = capsys.readouterr().err
    assert "setting OIC_MODE in .env" in err and "setting OIC_MAX_WORKERS in .env" in err
    assert HIDDEN.lower() not in err.lower() and "${OIC_PASSWORD}" not in err


@pytest.mark.parametrize("field", list(Settings.model_fields))
@pytest.mark.parametrize("where", ["flag", "input", "variable", "dotenv"])
def test_no_settings_error_shows_a_value(
    field: str, where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    value = f"S3NTINEL-{field}-x"
    env_file = tmp_path / "x.env"
    flags = {}
    if where == "flag":
        flags[field] = value
    elif where == "input":
        monkeypatch.setenv(f"INPUT_{input_name(field).upper()}", value)
    elif where == "variable":
        monkeypatch.setenv(f"OIC_{field.upper()}", value)
    else:
        env_file.write_text(f"OIC_{field.upper()}={value}\n")
    try:
        load_settings(flags, env_file)
    except SettingsError as exc:
        message = str(exc)
        assert input_name(field) in message or f"OIC_{field.upper()}" in message
        assert "s3ntinel" not in message.lower(), message
