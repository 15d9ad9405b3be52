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
