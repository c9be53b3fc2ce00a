"""Secrets never reach a log line, an artifact, an output or a cassette.

A whole build runs with planted secrets: the OIC password and client secret, a PASSWORD
property and an API key the server returns in clear, a secret committed in the source's plan,
and the access tokens the stand-in issues. The build's traffic is recorded to a cassette too.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import assert_no_leak, one_error, run_cli, sinks, use_runner
from oic_standin import CLIENT_ID, CLIENT_SECRET, PASSWORD, SCOPE, USERNAME
from pull_archives import HELLO, exported
from standin_fixtures import CASSETTES, PLANTED_SERVER_SECRET, SECRETS, TOKEN_PREFIX, make_vcr

pytestmark = pytest.mark.usefixtures("oic_fast_http")

PLANTED_API_KEY = "Pl4nted-Api-Key-0c9d"
PLANTED_PLAN_SECRET = "Pl4nted-Plan-Secret-77aa"
ALL_PLANTED = (*SECRETS, PLANTED_API_KEY, PLANTED_PLAN_SECRET)
COMMITTED_PLAN = (
    "RESTCOUNTRIESEU.connection.Connection URL=https://restcountries.example.com\n"
    "RESTCOUNTRIESEU.secure.Username=svc_prod\n"
    "RESTCOUNTRIESEU.secure.Password=${{OIC_RESTCOUNTRIES_PASSWORD}}\n"
)


def leaky_body(recorded: dict) -> dict:
    body = copy.deepcopy(recorded)
    body["securityPolicy"] = "BASIC_AUTH"
    body["securityProperties"] = [
        {"displayName": "Username", "propertyName": "username", "propertyType": "STRING",
         "propertyValue": "countries-api"},
        {"displayName": "Password", "propertyName": "password", "propertyType": "PASSWORD",
         "propertyValue": PLANTED_SERVER_SECRET},
        {"displayName": "API Key", "propertyName": "apiKey", "propertyType": "STRING",
         "propertyValue": PLANTED_API_KEY},
    ]  # fmt: skip
    return body


@pytest.mark.parametrize("auth", ["oauth", "basic"])
@pytest.mark.parametrize("github", [False, True], ids=["local", "github"])
def test_no_secret_leaks_anywhere(
    country_info, oic_fixture_standin, capsys, monkeypatch, tmp_path, auth, github
) -> None:
    standin = oic_fixture_standin
    standin.add_connection(
        "RESTCOUNTRIESEU", leaky_body(standin.state.connections["RESTCOUNTRIESEU"])
    )
    if auth == "oauth":
        standin.fault("/connections/RESTCOUNTRIESEU", "401")  # a token refresh, twice the tokens
    else:
        (country_info.parent / "connectionPlan.properties").write_text(COMMITTED_PLAN)
    runner = use_runner(monkeypatch, tmp_path / "runner", github=github)
    both = ["--username", USERNAME, "--password", PASSWORD, "--client-secret", CLIENT_SECRET]
    oauth = (
        ["--client-id", CLIENT_ID, "--token-url", standin.token_url, "--scope", SCOPE]
        if auth == "oauth"
        else []
    )
    cassettes = tmp_path / "cassettes"
    with make_vcr("all", cassettes).use_cassette("build.yaml"):
        code = run_cli(
            "--integration-path", str(country_info), "--artifact-dir", "out",
            "--oic-url", standin.url, *both, *oauth, "--max-workers", "1", "--json",
        )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert standin.connection_gets("RESTCOUNTRIESEU") == (2 if auth == "oauth" else 1)

    logs = captured.out + captured.err
    masks = [line for line in logs.splitlines() if line.startswith("::add-mask::")]
    tokens = sorted(standin.state.tokens)  # the live one (the 401 revoked the first)
    assert standin.token_requests == (2 if auth == "oauth" else 0)
    if github:  # the runner is told to hide the configured secrets and each token it got
        token_masks = [m for m in masks if m.startswith(f"::add-mask::{TOKEN_PREFIX}")]
        assert len(set(token_masks)) == standin.token_requests
        assert all(f"::add-mask::{t}" in token_masks for t in tokens)
        configured = sorted(f"::add-mask::{s}" for s in (PASSWORD, CLIENT_SECRET))
        assert sorted(set(masks) - set(token_masks)) == configured
    places = sinks(logs, runner, Path("out"), cassettes)
    assert len([p for p in places if p.endswith("build.yaml")]) == 1
    assert_no_leak(places, *ALL_PLANTED, *tokens, TOKEN_PREFIX)
    assert b"Authorization" not in places[(cassettes / "build.yaml").as_posix()]

    artifact = Path("out/COUNTRY_INFO_01.00.0000")
    saved = json.loads((artifact / "connections/RESTCOUNTRIESEU/connection.json").read_text())
    kept = {p["propertyName"]: p["propertyValue"] for p in saved["securityProperties"]}
    assert kept == {"username": "countries-api", "password": "", "apiKey": ""}
    plan = (artifact / "connectionPlan.properties").read_text()
    if auth == "oauth":  # generated: the secret's value empty
        assert "RESTCOUNTRIESEU.secure.Password=\n" in plan
    else:  # committed: shipped as committed, placeholder and user name kept
        assert plan == COMMITTED_PLAN


@pytest.mark.parametrize("planted", [False, True], ids=["clean", "secret-in-archive"])
@pytest.mark.parametrize("github", [False, True], ids=["local", "github"])
def test_pull_leaks_no_secret(oic_standin, capsys, monkeypatch, tmp_path, github, planted) -> None:
    """pull writes the archive's bytes and nothing from the server's connections; the run's
    credentials and tokens reach no log, output, summary or file, and an export that holds a
    credential (a hostile or misconfigured server) is refused, the file never written."""
    leak = {"leak.txt": f"user=x\npassword={CLIENT_SECRET}\n".encode()} if planted else {}
    archive = exported(**leak)
    oic_standin.add_integration(HELLO, archive)
    oic_standin.fault("/integrations", "401")  # a token refresh: twice the tokens
    runner = use_runner(monkeypatch, tmp_path / "runner", github=github)
    code = run_cli(
        "pull", "--integrations", "HELLO_WORLD", "--integration-path", "repo",
        "--oic-url", oic_standin.url, "--token-url", oic_standin.token_url, "--scope", SCOPE,
        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
        "--username", USERNAME, "--password", PASSWORD, "--json",
    )  # fmt: skip
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert code == (1 if planted else 0), logs
    if planted:
        assert "leak.txt: line 2 holds one of this run's secrets" in logs
        assert not Path("repo").exists()
    else:
        assert (Path("repo/HELLO_WORLD/icspackage/appinstances/HELLO_REST_TRIGGER.xml")).is_file()
    assert oic_standin.token_requests == 2
    places = sinks(logs, runner, Path("."))
    assert_no_leak(places, *SECRETS, *oic_standin.state.tokens, TOKEN_PREFIX)


def _secret_values_left(body: bytes) -> bool:
    """A JSON body holding a secret property value other than OIC's mask (`*****`) or empty."""
    from oicaction.oic.connection_model import strip_secrets

    def without_defaults(value: object) -> object:
        # an adapter's shipped default (`DefaultValueForRPST` in the recorded OIC 3 body) is
        # not a user's value, though the scrubber blanks it too
        if isinstance(value, dict):
            return {k: without_defaults(v) for k, v in value.items() if k != "defaultPropertyValue"}
        if isinstance(value, list):
            return [without_defaults(v) for v in value]
        return value

    try:
        data = without_defaults(json.loads(body.decode("utf-8").replace('"*****"', '""')))
    except ValueError:
        return False
    return strip_secrets(data)[0] != data


def test_cassettes_hold_no_secret(oic_api_dir: Path, tmp_path: Path) -> None:
    """Every cassette, committed (tests/cassettes/, recorded from a real OIC, see
    docs/live-recording.md) or generated from the recorded answers (tests/recorded_cassettes.py),
    holds no credential, token or secret value, in its text or its decoded bodies."""
    from recorded_cassettes import write_cassettes
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    planted = {"propertyName": "password", "propertyType": "PASSWORD", "propertyValue": "x1"}
    assert _secret_values_left(json.dumps({"securityProperties": [planted]}).encode())
    generated = write_cassettes(oic_api_dir, tmp_path / "generated")
    files = sorted(p for p in CASSETTES.rglob("*.yaml") if p.is_file()) + sorted(generated.values())
    assert files, "no cassette to scan"
    for path in files:
        text = path.read_text(encoding="utf-8")
        requests, responses = deserialize(text, yamlserializer)
        assert responses, f"{path} holds no exchange"
        bodies = [r["body"]["string"] or b"" for r in responses]
        bodies += [q.body or b"" for q in requests]
        places = [text.encode(), *(b if isinstance(b, bytes) else b.encode() for b in bodies)]
        for place in places:
            for secret in (*ALL_PLANTED, TOKEN_PREFIX, "Authorization", "authorization:"):
                assert secret.encode() not in place, f"{secret!r} found in {path}"
            assert b"Bearer " not in place and b"Basic " not in place, path
        for response in responses:
            assert not _secret_values_left(response["body"]["string"] or b""), path
        for request in requests:
            assert not {"authorization", "cookie"} & {h.lower() for h in request.headers}, path


# Lines whose text holds a secret where a plan error could show it (issue 18, item 7): Java's
# `key value` form (the key ends at the space), a bad escape, a malformed key.
PLAN_LINES = {
    "java form, value after '='": f"RESTCOUNTRIESEU.secure.Password {PLANTED_PLAN_SECRET}=x",
    "java form, nothing after ':'": f"RESTCOUNTRIESEU.secure.Password  {PLANTED_PLAN_SECRET}:",
    "java form, no connection": f"Password {PLANTED_PLAN_SECRET}=x",
    "bad key, java form": f"notakey {PLANTED_PLAN_SECRET}=x",
    "bad escape in a value": "RESTCOUNTRIESEU.connection.Note=\\u" + PLANTED_PLAN_SECRET,
}


@pytest.mark.parametrize("line", PLAN_LINES.values(), ids=PLAN_LINES.keys())
def test_plan_errors_never_show_the_line(country_info, capsys, line: str) -> None:
    """A plan error names file, line and (Java's reading of) the key, never the line's text; a
    Java-form line whose key names a secret is refused, not read as an empty value."""
    plan = country_info.parent / "connectionPlan.properties"
    plan.write_text(f"# prod\n{line}\n")
    code = run_cli(
        "--integration-path", str(country_info), "--artifact-dir", "out",
        "--manage-connections", "false",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    error = one_error(err)
    assert error.startswith(f"error: {plan}:2: ")
    assert PLANTED_PLAN_SECRET[:4] not in err  # not even the four characters of a bad escape
    assert not Path("out/COUNTRY_INFO_01.00.0000").exists()
