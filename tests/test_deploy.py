"""The deployment files (docker-compose.yml, .env.example, the Dockerfile and docker/) hold
together: migrations run once as their own step, no password has a default, every value
compose asks for is in .env.example, and the app goes through PgBouncer to the primary
and straight to the replica. (No Docker engine runs here: the topology's parts are tested
as real processes elsewhere: test_replicas, .ci/with-pgbouncer, test_shared_limits.)"""

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = (ROOT / "docker-compose.yml").read_text()
SERVICES: dict[str, Any] = yaml.safe_load(COMPOSE)["services"]


def test_the_topology_has_each_part() -> None:
    assert set(SERVICES) >= {"app", "migrate", "db", "replica", "pgbouncer", "redis"}


def test_migrations_run_once_before_any_app_server_and_never_in_one() -> None:
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["app"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert "migrate" not in " ".join(SERVICES["app"]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    cmd = [line for line in dockerfile if line.startswith("CMD")]
    assert cmd == ['CMD ["gunicorn", "config.wsgi", "-c", "python:config.gunicorn"]']


def test_no_secret_has_a_default_and_every_value_asked_for_is_in_env_example() -> None:
    asked = re.findall(r"\$\{([A-Z_]+)(:[-?][^}]*)?\}", COMPOSE)
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert {name for name, _ in asked} <= example
    secrets = {"SECRET_KEY", "POSTGRES_PASSWORD", "REPLICATION_PASSWORD", "METRICS_TOKEN"}
    for name, default in asked:
        if name in secrets:
            assert not default.startswith(":-"), f"{name} has a default"
    for name in secrets:
        assert f"${{{name}:?" in COMPOSE, f"compose does not insist on {name}"
        assert f"{name}=\n" in (ROOT / ".env.example").read_text(), f"{name} has a value"


def test_the_app_writes_through_pgbouncer_in_transaction_mode_and_reads_the_replica() -> None:
    app = SERVICES["app"]["environment"]
    assert "@pgbouncer:6432/" in app["DATABASE_URL"]
    assert app["DATABASE_POOLING"] == "transaction"
    assert "@replica:5432/" in app["DATABASE_REPLICA_URLS"]
    assert app["REDIS_URL"].startswith("redis://redis:")
    assert "pool_mode = transaction" in (ROOT / "docker/pgbouncer-entrypoint.sh").read_text()
    assert "@db:5432/" in SERVICES["migrate"]["environment"]["DATABASE_URL"]
