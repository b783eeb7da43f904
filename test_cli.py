"""End-to-end specs of the command line (issue 4): real subprocesses of the
CLI against the fake Identity Center."""

import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import timedelta

import pytest

import ssocreds as mod
from conftest import (HERE, START_URL, botocore_available, importable, iso,
                      now, run_cli, run_herd, run_python)


def env():
    return dict(os.environ)


def cache_files(home):
    if not os.path.isdir(home.cli_cache):
        return []
    return sorted(n for n in os.listdir(home.cli_cache) if n.endswith(".json"))


# -- export ------------------------------------------------------------------


def test_export_process_format_is_the_credential_process_contract(session, fake):
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert list(document) == ["Version", "AccessKeyId", "SecretAccessKey",
                              "SessionToken", "Expiration", "AccountId"]
    assert document["Version"] == 1 and type(document["Version"]) is int
    assert document["AccessKeyId"].startswith("ASIAFAKE")
    assert document["AccountId"] == "111122223333"
    expires = mod._parse_timestamp(document["Expiration"])
    assert document["Expiration"] == iso(expires)
    assert abs((expires - now()).total_seconds() - 3600) < 10


def test_profile_defaults_to_aws_profile(session, fake):
    e = env()
    e["AWS_PROFILE"] = "dev"
    result = run_cli(["export"], e)
    assert result.returncode == 0, result.stderr


def exported(session, fmt):
    result = run_cli(["export", "--profile", "dev", "--format", fmt], env())
    assert result.returncode == 0, result.stderr
    creds = json.loads(run_cli(["export", "--profile", "dev"], env()).stdout)
    return result.stdout, creds


def test_export_env_round_trips_through_sh(session, fake):
    text, creds = exported(session, "env")
    assert all(line.startswith("export AWS_") for line in text.splitlines())
    script = text + 'printf "%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" ' \
        '"$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "$AWS_ACCOUNT_ID"'
    out = subprocess.run(["sh", "-c", script], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout.splitlines()
    assert out == [creds["AccessKeyId"], creds["SecretAccessKey"],
                   creds["SessionToken"], creds["Expiration"], creds["AccountId"]]
    child = subprocess.run(["sh", "-c", text + "sh -c 'echo $AWS_ACCOUNT_ID'"],
                           stdout=subprocess.PIPE, universal_newlines=True)
    assert child.stdout.strip() == "111122223333"  # exported to children


def test_export_env_no_export(session, fake):
    text, creds = exported(session, "env-no-export")
    assert text.splitlines()[0] == "AWS_ACCESS_KEY_ID=" + creds["AccessKeyId"]
    out = subprocess.run(["sh", "-c", text + "sh -c 'echo ${AWS_ACCOUNT_ID:-unset}'"
                          ], stdout=subprocess.PIPE, universal_newlines=True)
    assert out.stdout.strip() == "unset"


@pytest.mark.parametrize("fmt, template", [
    ("powershell", "$Env:{k}='{v}'"),
    ("windows-cmd", 'set "{k}={v}"'),
    ("fish", "set -gx {k} '{v}'"),
])
def test_export_other_shells_exact_text(session, fake, fmt, template):
    text, creds = exported(session, fmt)
    values = [("AWS_ACCESS_KEY_ID", creds["AccessKeyId"]),
              ("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"]),
              ("AWS_SESSION_TOKEN", creds["SessionToken"]),
              ("AWS_CREDENTIAL_EXPIRATION", creds["Expiration"]),
              ("AWS_ACCOUNT_ID", creds["AccountId"])]
    assert text == "".join(template.format(k=k, v=v) + "\n" for k, v in values)


@pytest.mark.parametrize("value, sh, ps, fish", [
    ("abc/+=", "abc/+=", "'abc/+='", "'abc/+='"),
    ("it's", "'it'\"'\"'s'", "'it''s'", "'it\\'s'"),
    ("a b$c`d\\e", "'a b$c`d\\e'", "'a b$c`d\\e'", "'a b$c`d\\\\e'"),
    ("", "''", "''", "''"),
])
def test_shell_quoting(value, sh, ps, fish):
    assert mod._shell_quote(value) == sh
    assert mod._powershell_quote(value) == ps
    assert mod._fish_quote(value) == fish


def test_shell_quoting_survives_sh(home):
    hostile = "a'b\"c$d`e\\f g\nh;|&*?~#!{}[]()<>"
    out = subprocess.run(["sh", "-c", "printf %s " + mod._shell_quote(hostile)],
                         stdout=subprocess.PIPE, universal_newlines=True)
    assert out.stdout == hostile


def test_windows_cmd_refuses_values_it_cannot_express():
    with pytest.raises(mod.Error):
        mod._cmd_quote('50%"')


# -- errors and exit codes ---------------------------------------------------


def one_line(result):
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def test_missing_token_says_how_to_log_in(home, fake):
    from conftest import SESSION_CONFIG

    home.write_config(SESSION_CONFIG.format(start_url=START_URL))
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith('ssocreds: the SSO session for profile "dev" has '
                           "expired or is invalid (")
    assert line.endswith("; run: aws sso login --profile dev "
                         "(or: ssocreds login --profile dev)")
    assert home.token_path("my-sso") in line


def test_expired_legacy_token(legacy, fake):
    legacy.write_token(START_URL, access_token="legacy-token", expires_in=-60)
    result = run_cli(["export", "--profile", "legacy", "--no-cache"], env())
    assert result.returncode == 1
    assert "expired at" in one_line(result)
    assert fake.calls == {}


def test_revoked_token(legacy, fake):
    fake.revoke_token("legacy-token")
    result = run_cli(["export", "--profile", "legacy"], env())
    assert result.returncode == 1
    line = one_line(result)
    assert "UnauthorizedException" in line and "aws sso login --profile legacy" \
        in line


def test_config_error_exit_code(home, fake):
    home.write_config("[profile dev]\nregion = us-east-1\n")
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 1
    assert "is not an SSO profile" in one_line(result)


def test_service_error_exit_code(legacy, fake):
    fake.accounts.clear()
    result = run_cli(["export", "--profile", "legacy"], env())
    assert result.returncode == 1
    line = one_line(result)
    assert "ForbiddenException" in line and "111122223333" in line


def test_unreachable_portal(legacy, monkeypatch):
    e = env()
    e["AWS_ENDPOINT_URL_SSO"] = "http://127.0.0.1:9"
    e["AWS_MAX_ATTEMPTS"] = "1"
    result = run_cli(["export", "--profile", "legacy"], e)
    assert result.returncode == 1
    assert "cannot talk to 127.0.0.1:9" in one_line(result)


@pytest.mark.parametrize("args", [
    [], ["bogus"], ["--bogus"], ["export", "--format", "xml"],
    ["export", "--profile"], ["export", "--nope"], ["exec"],
    ["exec", "--profile", "dev"], ["export", "extra"], ["export", "--no-cache=1"]])
def test_usage_errors_exit_2(home, args):
    result = run_cli(args, env())
    assert result.returncode == 2
    assert one_line(result).startswith("ssocreds: error: ")


def test_help_and_version(home):
    result = run_cli(["--help"], env())
    assert result.returncode == 0 and "credential_process" in result.stdout
    assert "export" in result.stdout and "exec" in result.stdout
    result = run_cli(["export", "--help"], env())
    assert result.returncode == 0 and "--format F" in result.stdout
    result = run_cli(["--version"], env())
    assert result.stdout == "ssocreds %s\n" % mod.__version__
    module = subprocess.run([sys.executable, "-m", "ssocreds", "--version"],
                            cwd=HERE, stdout=subprocess.PIPE,
                            universal_newlines=True)
    assert module.stdout == result.stdout


def test_debug_diagnoses_without_secrets(session, fake):
    result = run_cli(["--debug", "export", "--profile", "dev"], env())
    assert result.returncode == 0
    assert "ssocreds: debug: " in result.stderr
    assert "my-sso" in result.stderr
    creds = json.loads(result.stdout)
    for secret in ("session-token", "csecret", "rt-1", creds["SecretAccessKey"],
                   creds["SessionToken"]):
        assert secret not in result.stderr


def test_debug_shows_a_traceback_only_on_request(home, fake):
    home.write_config("[profile dev]\nregion = x\n")
    result = run_cli(["export", "--profile", "dev", "--debug"], env())
    assert result.returncode == 1 and "Traceback" in result.stderr


# -- exec --------------------------------------------------------------------

SHOW_ENV = ("import json, os; print(json.dumps({k: v for k, v in os.environ.items()"
            " if k.startswith('AWS_')}))")


def test_exec_passes_credentials_and_clears_conflicts(session, fake):
    e = env()
    e.update(AWS_PROFILE="dev", AWS_ACCESS_KEY_ID="OLD", AWS_SECURITY_TOKEN="OLD",
             AWS_DEFAULT_PROFILE="x")
    result = run_cli(["exec", "--profile", "dev", "--", sys.executable, "-c",
                      SHOW_ENV], e)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["AWS_ACCESS_KEY_ID"].startswith("ASIAFAKE")
    assert seen["AWS_ACCOUNT_ID"] == "111122223333"
    assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert seen["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"):
        assert name not in seen
    assert seen["AWS_CONFIG_FILE"] == session.config  # everything else kept


def test_exec_keeps_an_explicit_region(session, fake):
    e = env()
    e["AWS_REGION"] = "ap-south-1"
    result = run_cli(["exec", "--profile", "dev", sys.executable, "-c", SHOW_ENV], e)
    seen = json.loads(result.stdout)
    assert seen["AWS_REGION"] == "ap-south-1" and "AWS_DEFAULT_REGION" not in seen


def test_exec_propagates_the_exit_status_and_arguments(session, fake):
    result = run_cli(["exec", "--profile", "dev", "--", sys.executable, "-c",
                      "import sys; print(sys.argv[1:]); sys.exit(7)", "--profile",
                      "a b", "--"], env())
    assert result.returncode == 7
    assert result.stdout.strip() == "['--profile', 'a b', '--']"


def test_exec_signal_reaches_the_child(session, fake):
    import signal

    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "ssocreds.py"), "exec", "--profile",
         "dev", "--", sys.executable, "-c",
         "import signal, sys, time\n"
         "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
         "print('ready', flush=True)\ntime.sleep(30)"],
        env=env(), stdout=subprocess.PIPE, universal_newlines=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 42


def test_exec_missing_command(session, fake):
    result = run_cli(["exec", "--profile", "dev", "--", "no-such-command-xyz"],
                     env())
    assert result.returncode == 127
    assert "command not found: no-such-command-xyz" in one_line(result)


def test_exec_with_expired_session_fails_before_running(home, fake, tmp_path):
    from conftest import SESSION_CONFIG

    home.write_config(SESSION_CONFIG.format(start_url=START_URL))
    marker = tmp_path / "ran"
    result = run_cli(["exec", "--profile", "dev", "--", "touch", str(marker)], env())
    assert result.returncode == 1 and not marker.exists()


# -- write-credentials -------------------------------------------------------


def test_write_credentials_merges_and_keeps_everything_else(session, fake):
    original = ("# my credentials\n[default]\naws_access_key_id = AKIADEFAULT\n"
                "aws_secret_access_key = keep-me ; comment\n\n"
                "[dev-static]\n# section comment\naws_access_key_id = OLD\n"
                "aws_security_token = STALE\nregion = us-west-1\n\n"
                "[other]\nx = 1\n")
    with open(session.credentials, "w") as f:
        f.write(original)
    os.chmod(session.credentials, 0o644)
    result = run_cli(["write-credentials", "--profile", "dev",
                      "--credentials-profile", "dev-static"], env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "wrote [dev-static]" in result.stderr
    creds = json.loads(run_cli(["export", "--profile", "dev"], env()).stdout)
    with open(session.credentials) as f:
        text = f.read()
    assert text == (
        "# my credentials\n[default]\naws_access_key_id = AKIADEFAULT\n"
        "aws_secret_access_key = keep-me ; comment\n\n"
        "[dev-static]\n# section comment\naws_access_key_id = %s\n"
        "region = us-west-1\naws_secret_access_key = %s\naws_session_token = %s\n"
        "aws_session_expiration = %s\naws_account_id = 111122223333\n\n"
        "[other]\nx = 1\n" % (creds["AccessKeyId"], creds["SecretAccessKey"],
                              creds["SessionToken"], creds["Expiration"]))
    assert stat.S_IMODE(os.stat(session.credentials).st_mode) == 0o600


def test_write_credentials_creates_the_file_and_defaults_the_section(session,
                                                                     fake):
    result = run_cli(["write-credentials", "--profile", "dev"], env())
    assert result.returncode == 0, result.stderr
    with open(session.credentials) as f:
        lines = f.read().splitlines()
    assert lines[0] == "[dev]" and lines[1].startswith("aws_access_key_id = ASIA")
    assert stat.S_IMODE(os.stat(session.credentials).st_mode) == 0o600


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocore_reads_the_written_credentials_file(session, fake):
    run_cli(["write-credentials", "--profile", "dev", "--credentials-profile",
             "static"], env())
    code = ("import botocore.session, json; c = botocore.session.Session("
            "profile='static').get_credentials(); print(json.dumps([c.method, "
            "c.access_key]))")
    out = run_python(code, env=env())
    method, key = json.loads(out.stdout)
    assert method == "shared-credentials-file" and key.startswith("ASIAFAKE")


# -- the credential cache shared with the AWS CLI ----------------------------


def test_export_fills_the_cli_cache_and_reuses_it(session, fake):
    first = json.loads(run_cli(["export", "--profile", "dev"], env()).stdout)
    second = json.loads(run_cli(["export", "--profile", "dev"], env()).stdout)
    assert first == second and fake.calls["GetRoleCredentials"] == 1
    # the AWS CLI's key: sha1 of compact sorted JSON (wire.md 4.9)
    key = json.dumps({"accountId": "111122223333", "roleName": "ReadOnly",
                      "sessionName": "my-sso"}, sort_keys=True,
                     separators=(",", ":"))
    import hashlib

    name = hashlib.sha1(key.encode()).hexdigest() + ".json"
    assert cache_files(session) == [name]
    path = os.path.join(session.cli_cache, name)
    with open(path) as f:
        document = json.load(f)
    assert document == {"ProviderType": "sso", "Credentials": {
        "AccessKeyId": first["AccessKeyId"],
        "SecretAccessKey": first["SecretAccessKey"],
        "SessionToken": first["SessionToken"],
        "Expiration": first["Expiration"], "AccountId": "111122223333"}}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(session.cli_cache).st_mode) == 0o700


def test_legacy_cache_key_uses_the_start_url(legacy, fake):
    run_cli(["export", "--profile", "legacy"], env())
    key = json.dumps({"accountId": "111122223333", "roleName": "ReadOnly",
                      "startUrl": START_URL}, sort_keys=True,
                     separators=(",", ":"))
    import hashlib

    assert cache_files(legacy) == [hashlib.sha1(key.encode()).hexdigest() + ".json"]


def write_cli_cache_entry(home, expires_in, provider_type="sso"):
    import hashlib

    key = json.dumps({"accountId": "111122223333", "roleName": "ReadOnly",
                      "sessionName": "my-sso"}, sort_keys=True,
                     separators=(",", ":"))
    os.makedirs(home.cli_cache, exist_ok=True)
    path = os.path.join(home.cli_cache,
                        hashlib.sha1(key.encode()).hexdigest() + ".json")
    with open(path, "w") as f:  # exactly as botocore's JSONFileCache writes
        json.dump(dict({"Credentials": {
            "AccessKeyId": "ASIACLIWROTE0000", "SecretAccessKey": "cli-secret",
            "SessionToken": "cli-token",
            "Expiration": iso(now() + timedelta(seconds=expires_in)),
            "AccountId": "111122223333"}}, **({"ProviderType": provider_type}
                                             if provider_type else {})), f)
    return path


@pytest.mark.parametrize("provider_type", ["sso", None])
def test_an_entry_written_by_the_aws_cli_is_used(session, fake, provider_type):
    # botocore uses an entry without ProviderType too
    write_cli_cache_entry(session, 3600, provider_type)
    result = run_cli(["export", "--profile", "dev"], env())
    assert json.loads(result.stdout)["AccessKeyId"] == "ASIACLIWROTE0000"
    assert fake.calls == {}


def test_an_entry_of_another_kind_is_refetched(session, fake):
    write_cli_cache_entry(session, 3600, "assume-role")
    result = run_cli(["export", "--profile", "dev"], env())
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIAFAKE")


def test_entries_within_fifteen_minutes_of_expiry_are_refetched(session, fake):
    write_cli_cache_entry(session, 14 * 60)
    result = run_cli(["export", "--profile", "dev"], env())
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIAFAKE")
    assert fake.calls["GetRoleCredentials"] == 1


def test_no_cache_bypasses_the_cache(session, fake):
    write_cli_cache_entry(session, 3600)
    result = run_cli(["export", "--profile", "dev", "--no-cache"], env())
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIAFAKE")


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"ProviderType": "sso"}',
                                     b'{"ProviderType": "sso", "Credentials": 1}'])
def test_corrupt_cache_entries_are_ignored_and_replaced(session, fake, content):
    path = write_cli_cache_entry(session, 3600)
    with open(path, "wb") as f:
        f.write(content)
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 0 and result.stderr == ""
    with open(path) as f:
        assert json.load(f)["Credentials"]["AccessKeyId"].startswith("ASIAFAKE")


def test_unwritable_cache_never_fails_the_command(session, fake):
    os.makedirs(os.path.dirname(session.cli_cache))
    with open(session.cli_cache, "w") as f:  # a file where the dir should be
        f.write("x")
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 0 and result.stderr == ""


BIG_CONFIG_PROFILE = """\
# team {n}: comments, quoted names and services blocks, as a populate writes
[profile 'team {n}']
sso_session = corp sso
sso_account_id = {account}
sso_role_name = Role{n}  ; inline comment
services = svc-{n}
region = eu-west-1

[services svc-{n}]
sts =
  endpoint_url = https://sts.eu-west-1.amazonaws.com
"""


@pytest.mark.parametrize("profiles", [1, 2000])
def test_the_cache_hit_path_loads_no_heavy_module(home, fake, profiles):
    # a quoted sso-session name, comments, services sub-sections and a big
    # file: still no re, shlex, json, pure-Python datetime, hashlib, logging,
    # argparse or network module on a cache hit
    text = "".join(BIG_CONFIG_PROFILE.format(n=n, account="%012d" % (
        111122223333 + n % 3)) for n in range(profiles))
    home.write_config(text + "[sso-session 'corp sso']\nsso_start_url = %s\n"
                      "sso_region = us-east-1\n" % START_URL)
    fake.accounts["%012d" % 111122223333]["roles"].append("Role0")
    home.write_token("corp sso", access_token="t0")
    fake.add_token("t0")
    assert run_cli(["export", "--profile", "team 0"], env()).returncode == 0
    heavy = ("re", "shlex", "json", "_pydatetime", "hashlib", "_hashlib",
             "logging", "argparse", "socket", "ssl", "http.client", "selectors",
             "urllib.request", "email", "threading", "subprocess", "random")
    code = ("import sys; sys.path.insert(0, %r); before = set(sys.modules); "
            "import ssocreds, io; out = sys.stdout; sys.stdout = io.StringIO(); "
            "rc = ssocreds.main(['export', '--profile', 'team 0']); "
            "sys.stdout = out; print(rc, sorted(m for m in %r if m in "
            "sys.modules and m not in before))" % (HERE, heavy))
    result = run_python(code, env=env())
    assert result.stdout.strip() == "0 []", result.stderr
    assert fake.calls["GetRoleCredentials"] == 1


def test_sixteen_cold_exports_make_one_portal_call(session, fake):
    fake.delays["GetRoleCredentials"] = 0.3
    outputs = run_herd(["export", "--profile", "dev"], env())
    assert fake.calls["GetRoleCredentials"] == 1
    assert len({json.loads(out)["AccessKeyId"] for out, _ in outputs}) == 1


# -- every AWS SDK through credential_process --------------------------------


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocore_gets_our_credentials_through_credential_process(session, fake):
    with open(session.config, "a") as f:
        f.write("\n[profile wrapped]\ncredential_process = %s %s export "
                "--profile dev\n" % (sys.executable,
                                     os.path.join(HERE, "ssocreds.py")))
    code = ("import botocore.session, json; c = botocore.session.Session("
            "profile='wrapped').get_credentials(); f = c.get_frozen_credentials();"
            " print(json.dumps([c.method, f.access_key, f.secret_key, f.token, "
            "str(c._expiry_time), getattr(f, 'account_id', None)]))")
    out = run_python(code, env=env())
    assert out.returncode == 0, out.stderr
    method, key, secret, token, expiry, account = json.loads(out.stdout)
    ours = json.loads(run_cli(["export", "--profile", "dev"], env()).stdout)
    assert method == "custom-process"
    assert [key, secret, token] == [ours["AccessKeyId"], ours["SecretAccessKey"],
                                    ours["SessionToken"]]
    assert account in (None, "111122223333")
    assert mod._parse_timestamp(expiry.replace("+00:00", "Z")) == \
        mod._parse_timestamp(ours["Expiration"])
    assert fake.calls["GetRoleCredentials"] == 1


def test_demo_runs_on_a_fresh_checkout(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, os.path.join(HERE, "fakesso.py"),
                             "demo"], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout
    assert '"Version": 1' in result.stdout
    assert "export AWS_ACCESS_KEY_ID=" in result.stdout
    assert "child sees AWS_ACCESS_KEY_ID=ASIAFAKE" in result.stdout
    assert "Portal calls: 1 GetRoleCredentials" in result.stdout
    assert os.listdir(str(tmp_path)) == []  # nothing left in the real HOME


def test_the_installed_command_imports_nothing_but_ssocreds(tmp_path):
    # run setup.py against a stand-in setuptools that records its arguments,
    # then run the script it made as the installed command
    (tmp_path / "setuptools.py").write_text(
        "import json, sys\ndef setup(**kw):\n    json.dump(kw, open("
        "'setup-args.json', 'w'))\n")
    shutil.copy(os.path.join(HERE, "setup.py"), str(tmp_path))
    subprocess.run([sys.executable, "setup.py"], cwd=str(tmp_path), check=True,
                   env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    with open(str(tmp_path / "setup-args.json")) as f:
        args = json.load(f)
    if os.name == "nt":  # pragma: no cover - pip's launcher there
        assert args == {"entry_points": {"console_scripts": [
            "ssocreds = ssocreds:main"]}}
        return
    script = str(tmp_path / args["scripts"][0])
    with open(script) as f:
        text = f.read()
    assert text.startswith("#!python\n")  # pip and setuptools put the python
    imports = [line for line in text.splitlines() if "import" in line]
    assert imports == ["import sys", "from ssocreds import main"]
    result = subprocess.run([sys.executable, script, "--version"],
                            env=dict(os.environ, PYTHONPATH=HERE),
                            stdout=subprocess.PIPE, universal_newlines=True)
    assert result.stdout == "ssocreds %s\n" % mod.__version__
    import bench
    assert text == "#!python\n" + bench.COMMAND_SCRIPT  # bench times this


def test_bench_runs_once_and_prints_the_table(home):
    result = subprocess.run([sys.executable, os.path.join(HERE, "bench.py"),
                             "--runs", "1", "--no-venv", "--quick"], cwd=HERE,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| measurement | ssocreds | baseline | ratio | target | met |" in \
        result.stdout
    assert "16 cold `export` processes: portal calls | 1 |" in result.stdout
    assert "50 threads, cold cache: portal calls | 1 |" in result.stdout


@pytest.mark.skipif(not importable("awscli"), reason="the AWS CLI is not installed")
def test_the_aws_cli_uses_our_credential_process(session, fake):
    with open(session.config, "a") as f:
        f.write("\n[profile wrapped]\ncredential_process = %s %s export "
                "--profile dev\n" % (sys.executable,
                                     os.path.join(HERE, "ssocreds.py")))
    out = subprocess.run([sys.executable, "-m", "awscli", "configure", "list",
                          "--profile", "wrapped"], env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=60)
    assert out.returncode == 0, out.stderr
    ours = json.loads(run_cli(["export", "--profile", "dev"], env()).stdout)
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()
            if line.split()}
    assert rows["access_key"][1].endswith(ours["AccessKeyId"][-4:])
    assert rows["access_key"][2] == "custom-process"
    assert rows["secret_key"][1].endswith(ours["SecretAccessKey"][-4:])


def test_readme_command_section_names_every_option_of_every_command():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("## Command line"):readme.index("## Python API")]
    missing = []
    for command in mod._COMMANDS:
        heading = "### `%s" % command.name
        assert heading in section, heading
        for option in command.options:
            if option.name not in section:
                missing.append("%s %s" % (command.name, option.name))
    missing += [o.name for o in mod._GLOBAL_OPTIONS if o.name not in section]
    assert missing == []


def test_every_option_is_in_its_command_help(home):
    for command in mod._COMMANDS:
        text = command.help()
        for option in command.options:
            assert text.count(option.usage()) >= 2, (command.name, option.name)


@pytest.mark.parametrize("args", [
    ["--profile", "dev", "export"],
    ["--debug", "export", "--profile", "dev"],
    ["export", "--profile=dev", "--debug"],
])
def test_options_before_or_after_the_command(session, fake, args):
    result = run_cli(args, env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIA")


# -- Mistakes a new user makes --------------------------------------------------

PROD = ("[profile prod]\nsso_session = my-sso\nsso_account_id = 111122223333\n"
        "sso_role_name = Admin\n")


@pytest.mark.parametrize("config, argv, phrases", [
    (PROD, ["--profile", "deev"],
     ["did you mean: dev?", "SSO profiles there: dev, prod"]),
    (PROD.replace("[profile prod]", "[qa]"), ["--profile", "qa"],
     ["the config has [qa], but in the config file a profile section is "
      "[profile qa]"]),
    (PROD.replace("[profile prod]", "[Profile prod]"), ["--profile", "prod"],
     ["the config has [Profile prod], but the word must be written profile, "
      "in lower case: [profile prod]"]),
    (PROD.replace("my-sso", "my_sso"), ["--profile", "prod"],
     ['uses sso_session "my_sso"', "did you mean: my-sso?"]),
    (PROD.replace("my-sso", "other") + "[sso_session other]\nsso_region = "
     "us-east-1\n", ["--profile", "prod"],
     ["the config has [sso_session other]: write it [sso-session other]"]),
])
def test_mistakes_are_named_with_the_fix(session, fake, capsys, config, argv,
                                         phrases):
    with open(session.config, "a") as f:
        f.write("\n" + config)
    assert mod.main(["export"] + argv) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    for phrase in phrases:
        assert phrase in err, err
    assert "aws configure sso --profile" not in err  # it would make a new one


def test_a_role_you_are_not_assigned_points_to_list(session, fake, capsys):
    with open(session.config, "a") as f:
        f.write("\n" + PROD.replace("Admin", "Nope"))
    assert mod.main(["export", "--profile", "prod"]) == 1
    err = capsys.readouterr().err
    assert "ForbiddenException (HTTP 403)" in err and "111122223333" in err
    assert err.rstrip().endswith("see the accounts and roles you may use "
                                 "with: ssocreds list --profile prod"), err


@pytest.mark.parametrize("written, signed_in", [
    (START_URL + "/", START_URL), (START_URL, START_URL + "/"),
    (START_URL.upper().replace("HTTPS", "https"), START_URL)])
def test_a_start_url_written_differently_is_named(home, fake, capsys, written,
                                                  signed_in):
    home.write_config("[profile legacy]\nsso_start_url = %s\nsso_region = "
                      "us-east-1\nsso_account_id = 111122223333\nsso_role_name"
                      " = ReadOnly\n" % written)
    home.write_token(signed_in, access_token="legacy-token")
    assert mod.main(["export", "--profile", "legacy"]) == 1
    err = capsys.readouterr().err
    assert "but there is one for %s" % signed_in.rstrip("/").lower() in \
        err.lower(), err


def test_a_region_that_does_not_resolve_names_where_it_is_set(
        session, fake, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_SSO")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with open(session.config) as f:
        text = f.read()
    with open(session.config, "w") as f:
        f.write(text.replace("sso_region = us-east-1", "sso_region = us-east1"))
    assert mod.main(["export", "--profile", "dev", "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "portal.sso.us-east1.amazonaws.com" in err
    assert "check sso_region = us-east1 in [sso-session my-sso] of %s" % (
        session.config) in err, err


@pytest.mark.parametrize("bom, newline", [(b"", "\r\n"), (b"\xef\xbb\xbf", "\n"),
                                          (b"\xef\xbb\xbf", "\r\n")])
def test_write_credentials_keeps_line_endings_and_byte_order_mark(
        session, fake, bom, newline):
    text = newline.join(["# mine", "[other]", "aws_access_key_id = AKIAOTHER",
                         "", "[dev]", "region = eu-west-1", ""])
    with open(session.credentials, "wb") as f:
        f.write(bom + text.encode())
    os.chmod(session.credentials, 0o644)
    result = run_cli(["write-credentials", "--profile", "dev"], env())
    assert result.returncode == 0, result.stderr
    assert "was readable or writable by others (mode 0644); it is 0600 now" \
        in result.stderr
    with open(session.credentials, "rb") as f:
        data = f.read()
    assert data.startswith(bom + b"# mine" + newline.encode())
    body = data[len(bom):].decode()
    assert body.count(newline) == len(body.splitlines())  # no line break mixed
    if newline == "\r\n":
        assert "\n" not in body.replace("\r\n", "")
    assert "aws_access_key_id = ASIAFAKE" in body and "region = eu-west-1" in body
    assert stat.S_IMODE(os.stat(session.credentials).st_mode) == 0o600


def test_a_profile_only_in_the_credentials_file_is_named(home, capsys):
    with open(home.credentials, "w") as f:
        f.write("[ops]\naws_access_key_id = AKIAEXAMPLE\n")
    assert mod.main(["export", "--profile", "ops"]) == 1
    err = capsys.readouterr().err
    assert "is not an SSO profile" in err
    assert "its [ops] section in %s" % home.credentials in err, err
