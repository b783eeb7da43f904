"""Specs of `populate`: one profile per account and role, kept in sync, with
every byte the user wrote left alone; botocore reads what it writes."""

import os
import sys

import pytest

from conftest import (SESSION_CONFIG, START_URL, botocore_available, run_cli,
                      run_python)


def env():
    return dict(os.environ)


@pytest.fixture
def org(session, fake):
    fake.accounts["444455556666"] = {"name": "prod env", "email": "p@x",
                                     "roles": ["Deploy"]}
    return session


def populate(*args):
    result = run_cli(["populate", "--profile", "dev"] + list(args), env())
    assert result.returncode == 0, result.stderr
    return result


def read(home):
    with open(home.config, "rb") as f:
        return f.read()


def test_profiles_for_every_role_are_written_and_botocore_uses_them(org, fake):
    populate()
    text = read(org).decode()
    for name, account, role in [("dev.ReadOnly", "111122223333", "ReadOnly"),
                                ("dev.Admin", "111122223333", "Admin"),
                                ("prod-env.Deploy", "444455556666", "Deploy")]:
        section = "[profile %s]\nsso_session = my-sso\nsso_account_id = %s\n" \
                  "sso_role_name = %s\nregion = eu-west-1\n" \
                  "sso_auto_populated = true\n" % (name, account, role)
        assert section in text
    assert text.startswith(SESSION_CONFIG.format(start_url=START_URL))
    if botocore_available():
        code = ("import botocore.session, sys\nfor name in sys.argv[1:]:\n"
                "    c = botocore.session.Session(profile=name).get_credentials()"
                "\n    print(c.get_frozen_credentials().access_key)")
        out = run_python(code, "dev.ReadOnly", "dev.Admin", "prod-env.Deploy",
                         env=env())
        assert out.returncode == 0, out.stderr
        assert len(set(out.stdout.split())) == 3
        assert all(k.startswith("ASIAFAKE") for k in out.stdout.split())


def test_a_second_run_changes_nothing(org, fake):
    populate()
    before = read(org)
    result = populate()
    assert read(org) == before
    assert "0 profile(s) added, 0 updated, 0 removed, 3 unchanged" in \
        result.stderr


def test_prune_removes_only_roles_no_longer_assigned(org, fake):
    populate()
    fake.accounts["444455556666"]["roles"] = []
    kept = populate()
    assert b"[profile prod-env.Deploy]" in read(org)
    assert "0 removed" in kept.stderr
    pruned = populate("--prune")
    assert b"[profile prod-env.Deploy]" not in read(org)
    assert "1 removed" in pruned.stderr


def test_hand_written_bytes_stay_as_they_were(org, fake):
    hand = ("# my notes\r\n[profile dev.ReadOnly]\r\nsso_session = my-sso\r\n"
            "sso_account_id = 111122223333\r\nsso_role_name = ReadOnly\r\n"
            "output = json  ; mine\r\n\r\n")
    original = read(org).replace(b"\n", b"\r\n")
    with open(org.config, "wb") as f:
        f.write(b"\xef\xbb\xbf" + hand.encode() + original)
    result = populate()
    data = read(org)
    assert data.startswith(b"\xef\xbb\xbf" + hand.encode() + original)
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF throughout
    text = data.decode("utf-8-sig")
    assert "[profile dev.ReadOnly-111122223333]" in text  # not the user's
    assert 'profile "dev.ReadOnly" exists and is not generated from this ' \
        'source' in result.stderr


def test_colliding_names_are_made_unique_the_same_way_every_time(org, fake):
    fake.accounts["777788889999"] = {"name": "dev", "email": "d@x",
                                     "roles": ["Admin"]}
    populate()
    text = read(org).decode()
    assert "[profile dev.Admin]\nsso_session = my-sso\nsso_account_id = " \
           "111122223333" in text
    assert "[profile dev.Admin-777788889999]\nsso_session = my-sso\n" \
           "sso_account_id = 777788889999" in text
    before = read(org)
    populate()
    assert read(org) == before


def test_dry_run_prints_the_diff_and_changes_nothing(org, fake):
    before = read(org)
    result = populate("--dry-run", "--prefix", "acme ", "--name",
                      "{account_id}-{role_name}")
    assert read(org) == before
    assert "+[profile acme-111122223333-Admin]" in result.stdout
    assert result.stdout.startswith("--- %s" % org.config)


def test_credential_process_wrappers(org, fake):
    populate("--credential-process", "--region", "us-west-2")
    text = read(org).decode()
    expected = "%s %s export --profile dev.Admin" % (
        sys.executable, os.path.join(os.path.dirname(__file__), "ssocreds.py"))
    assert "[profile dev.Admin-process]\ncredential_process = %s\n" \
           "region = us-west-2\nsso_auto_populated = true\n" % expected in text
    if botocore_available():
        code = ("import botocore.session\nc = botocore.session.Session(profile="
                "'dev.Admin-process').get_credentials()\n"
                "print(c.get_frozen_credentials().access_key)")
        out = run_python(code, env=env())
        assert out.returncode == 0 and out.stdout.startswith("ASIAFAKE"), \
            out.stderr


def test_a_bad_name_format_is_a_usage_error(org, fake):
    result = run_cli(["populate", "--profile", "dev", "--name", "{nope}"], env())
    assert result.returncode == 2 and "{account_name}" in result.stderr


def test_another_sessions_profiles_are_never_touched(org, fake):
    populate()
    with open(org.config, "a") as f:  # a second organisation, same names
        f.write("\n[sso-session other]\nsso_start_url = %s/other\n"
                "sso_region = us-east-1\n" % START_URL)
    org.write_token("other", access_token="other-token")
    fake.add_token("other-token")
    before = read(org).decode()
    result = run_cli(["populate", "--sso-session", "other", "--prune"], env())
    assert result.returncode == 0, result.stderr
    after = read(org).decode()
    assert before in after  # the first session's profiles stay as they were
    assert "[profile dev.ReadOnly-111122223333]\nsso_session = other" in after
    assert "0 removed" in result.stderr


def test_a_generated_name_stays_with_its_account(org, fake):
    populate()
    # a new account whose name sorts first and sanitises to the same name
    fake.accounts["000011112222"] = {"name": "prod env", "email": "x@x",
                                     "roles": ["Deploy"]}
    populate()
    text = read(org).decode()
    assert "[profile prod-env.Deploy]\nsso_session = my-sso\nsso_account_id" \
           " = 444455556666" in text  # unchanged
    assert "[profile prod-env.Deploy-000011112222]\nsso_session = my-sso\n" \
           "sso_account_id = 000011112222" in text


def test_comments_after_a_generated_section_are_kept(org, fake):
    populate("--prune")
    with open(org.config, "a") as f:
        f.write("\n# ---- my profiles ----\n[profile mine]\nregion = x\n")
    before = read(org)
    result = populate("--prune")
    assert read(org) == before and "3 unchanged" in result.stderr
    fake.accounts["444455556666"]["roles"] = []
    populate("--prune")
    assert b"# ---- my profiles ----\n[profile mine]" in read(org)
