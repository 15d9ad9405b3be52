"""Production settings refuse to start without a secret and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_debug_the_app_refuses_to_start_without_a_secret_key() -> None:
    result = manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="x7Hq-test-only-" + "k3vN9pLm2QwZr8TgYb5Fd" * 3,
        ALLOWED_HOSTS="claims.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_bad_boolean_setting_is_a_clear_error() -> None:
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'." in result.stderr


def test_an_export_work_mem_postgresql_would_refuse_is_a_clear_error_at_start() -> None:
    for bad in ("lots", "1kB", "256 MB", "0MB"):
        result = manage("check", DEBUG="true", CSV_EXPORT_WORK_MEM=bad)
        assert result.returncode != 0, bad
        assert "CSV_EXPORT_WORK_MEM must be a size of 64kB or more" in result.stderr, bad
    assert manage("check", DEBUG="true", CSV_EXPORT_WORK_MEM="64kB").returncode == 0


def settings_of(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` with the settings as this environment makes them."""
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE")}
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env={**clean_env, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_replica_urls_become_aliases_that_mirror_the_test_database() -> None:
    result = settings_of(
        "from django.conf import settings as s; import json;"
        " print(json.dumps([s.DATABASE_REPLICAS, s.DATABASES['replica2']['PORT'],"
        " s.DATABASES['replica2']['TEST']['MIRROR'], s.DATABASES['replica1']['OPTIONS']]))",
        DATABASE_URL="postgres://app@db:5432/claimtrail",
        DATABASE_REPLICA_URLS=(
            "postgres://app@replica-a:5432/claimtrail, postgres://app@replica-b:5433/claimtrail"
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '[["replica1", "replica2"], 5433, "default",'
        ' {"connect_timeout": 2, "keepalives": 1, "keepalives_idle": 30,'
        ' "keepalives_interval": 10, "keepalives_count": 3, "options": "-c jit=off"}]'
    )


def test_a_replica_that_is_not_postgresql_is_a_clear_error() -> None:
    result = settings_of("pass", DATABASE_REPLICA_URLS="sqlite:///replica.sqlite3")
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS must be postgres:// URLs." in result.stderr


def test_transaction_pooling_sends_no_startup_options_and_uses_no_server_side_cursors() -> None:
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        " print(d['OPTIONS'], d.get('DISABLE_SERVER_SIDE_CURSORS', False))"
    )
    url = "postgres://app@pgbouncer:6432/claimtrail"
    pooled = settings_of(code, DATABASE_URL=url, DATABASE_POOLING="transaction")
    direct = settings_of(code, DATABASE_URL=url)
    # libpq's own connection settings (timeouts, keepalives) are no startup options.
    client_side = (
        "'connect_timeout': 5, 'keepalives': 1, 'keepalives_idle': 30, "
        "'keepalives_interval': 10, 'keepalives_count': 3"
    )
    assert pooled.stdout.strip().splitlines()[-1] == "{" + client_side + "} True"
    assert direct.stdout.strip().splitlines()[-1] == (
        "{" + client_side + ", 'options': '-c jit=off'} False"
    )
    bad = settings_of("pass", DATABASE_POOLING="statement")
    assert "DATABASE_POOLING must be one of session, transaction, not 'statement'." in bad.stderr


def test_a_read_after_write_window_shorter_than_a_replica_may_lag_is_refused() -> None:
    result = settings_of("pass", REPLICA_READ_AFTER_WRITE_SECONDS="5", REPLICA_MAX_LAG_SECONDS="10")
    assert result.returncode != 0
    assert "REPLICA_READ_AFTER_WRITE_SECONDS must be at least" in result.stderr
