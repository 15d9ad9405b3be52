"""Read replicas (config/replicas.py) against a real PostgreSQL streaming replica: started
from the test database's server with pg_basebackup, on another port, for this session.

Which server answered is seen three ways: the queries on the replica's connection, what
`pg_is_in_recovery()` says there, and what the response holds while the replica's replay
is paused and the primary has moved on.
"""

import contextlib
import copy
import csv
import io
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from api.throttling import reset_local_counts
from claims.models import Claim
from config import replicas
from config.settings import cache_settings
from tests.factories import ClaimFactory, EditorFactory, UserFactory
from tests.test_gunicorn import free_port, gunicorn
from tests.test_throttling import closed_port

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="replicas are PostgreSQL's"),
]

ALIAS = "replica_under_test"


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as its own user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own arguments
        as_postgres(command), capture_output=True, text=True, timeout=120, **kwargs
    )


class Replica:
    def __init__(self, directory: Path, port: int, bin_dir: Path) -> None:
        self.directory, self.port, self.bin_dir = directory, port, bin_dir

    def pg_ctl(self, *args: str) -> None:
        result = run([str(self.bin_dir / "pg_ctl"), "-D", str(self.directory), *args])
        assert result.returncode == 0, result.stderr + result.stdout

    def start(self) -> None:
        self.pg_ctl("-l", str(self.directory / "log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup: None, django_db_blocker: Any) -> Iterator[Replica]:
    """A hot standby of the primary the tests use, streaming from it."""
    with django_db_blocker.unblock():
        connection.ensure_connection()
        major = connection.pg_version // 10000
    bin_dir = Path(f"/usr/lib/postgresql/{major}/bin")
    if not (bin_dir / "pg_basebackup").exists():
        message = f"PostgreSQL {major}'s programs are not in {bin_dir}"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    # Its own folder, which PostgreSQL's user can reach (pytest's are the test user's alone).
    base = Path(tempfile.mkdtemp(prefix="claimtrail-replica-"))
    directory = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    try:
        yield from _replica(django_db_blocker, bin_dir, directory)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _replica(django_db_blocker: Any, bin_dir: Path, directory: Path) -> Iterator[Replica]:
    db = connection.settings_dict
    conninfo = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']}" + (
        f" password={db['PASSWORD']}" if db["PASSWORD"] else ""
    )
    # -R: it starts as a standby of the primary; the WAL written meanwhile comes along.
    options = ["-R", "--wal-method=stream", "--checkpoint=fast"]
    backup = run([str(bin_dir / "pg_basebackup"), "-d", conninfo, "-D", str(directory), *options])
    if backup.returncode != 0:
        message = f"pg_basebackup failed: {backup.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/run allows replication from 127.0.0.1)")
        pytest.skip(message)
    port = free_port()
    settings_sql = "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # A hot standby needs at least the primary's values of these.
        limits = ["max_connections", "max_worker_processes", "max_wal_senders"]
        cursor.execute(settings_sql, [[*limits, "max_prepared_transactions"]])
        values = cursor.fetchall()
    (directory / "postgresql.conf").write_text(
        f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{directory}'\nhot_standby = on\n"
        "hot_standby_feedback = on\n" + "".join(f"{name} = {value}\n" for name, value in values)
    )
    (directory / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    replica = Replica(directory, port, bin_dir)
    replica.start()
    try:
        yield replica
    finally:
        run([str(bin_dir / "pg_ctl"), "-D", str(directory), "-m", "immediate", "stop"])


@pytest.fixture
def replica(streaming_replica: Replica, settings: Any) -> Iterator[Replica]:
    """The replica as the app's only one, for this test: what DATABASE_REPLICA_URLS makes."""
    primary = connections["default"]
    # Made here, not listed in DATABASES: Django's test case allows such a connection.
    connections[ALIAS] = type(primary)(
        {
            **copy.deepcopy(primary.settings_dict),
            "HOST": "127.0.0.1",
            "PORT": str(streaming_replica.port),
            "OPTIONS": {"connect_timeout": 2},
        },
        alias=ALIAS,
    )
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.REPLICA_CHECK_SECONDS = 0
    settings.REPLICA_MAX_LAG_SECONDS = 60
    replicas.forget_checks()
    try:
        yield streaming_replica
    finally:
        set_replay(paused=False)
        connections[ALIAS].close()
        del connections[ALIAS]
        replicas.forget_checks()


def set_replay(*, paused: bool) -> None:
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()")
    except Exception:
        if paused:
            raise


def caught_up() -> None:
    """Wait until the replica has replayed everything the primary has written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (lsn,) = cursor.fetchone()
    deadline = time.monotonic() + 30
    with connections[ALIAS].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {claim["id"] for claim in response.json()["results"]}


def in_recovery() -> bool:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return bool(cursor.fetchone()[0])


def test_readers_read_the_replica_editors_and_writers_the_primary(replica: Replica) -> None:
    before = ClaimFactory()
    caught_up()
    set_replay(paused=True)
    after = ClaimFactory()  # on the primary only, while the replica stands still

    # Anonymous: the replica answers, and it is in recovery (a standby).
    with CaptureQueriesContext(connections[ALIAS]) as on_replica:
        assert ids(Client().get("/api/v1/claims/")) == {before.pk}
        assert Client().get(f"/claims/{after.pk}/").status_code == 404
    assert any("claims_claim" in query["sql"] for query in on_replica.captured_queries)
    assert in_recovery()

    # A reader's token reads the replica too; the CSV export streams from it.
    _, reader_key = ApiToken.issue(name="Data desk", created_by=None)
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {reader_key}")
    assert ids(reader.get("/api/v1/claims/")) == {before.pk}
    export = b"".join(reader.get("/api/v1/claims.csv").streaming_content).decode()
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(export))] == [before.pk]

    # An editor, signed in or by token, reads the primary.
    editor = Client()
    editor.force_login(EditorFactory())
    assert ids(editor.get("/api/v1/claims/")) == {before.pk, after.pk}
    _, editor_key = ApiToken.issue(name="Script", user=EditorFactory(), created_by=None)
    by_token = Client(HTTP_AUTHORIZATION=f"Bearer {editor_key}")
    assert ids(by_token.get("/api/v1/claims/")) == {before.pk, after.pk}


def writer_with_token(settings: Any) -> tuple[Any, str]:
    """A writer's account and API token, with the replica caught up and then standing
    still (replay paused): a write made now is on the primary only."""
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 30
    # May add claims but not change them, so sees no drafts: would read the replica.
    writer = UserFactory()
    writer.user_permissions.add(Permission.objects.get(codename="add_claim"))
    _, key = ApiToken.issue(name="Intake script", user=writer, created_by=None)
    caught_up()
    set_replay(paused=True)
    return writer, key


def test_a_client_reads_its_own_writes_from_the_primary(replica: Replica, settings: Any) -> None:
    writer, key = writer_with_token(settings)

    # A token client keeps no cookie: its last write, kept on its token, pins it.
    token_client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    created = token_client.post(
        "/api/v1/claims/",
        {"text": "Written just now.", "state": "published"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    new = created.json()["id"]
    assert new in ids(token_client.get("/api/v1/claims/"))
    # Another reader does not see it yet: the replica serves them.
    assert new not in ids(Client().get("/api/v1/claims/"))

    # A browser session is pinned by a signed cookie.
    browser = Client()
    browser.force_login(writer)
    response = browser.post(
        "/api/v1/claims/",
        {"text": "Also just now.", "state": "published"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert replicas.PIN_COOKIE in response.cookies
    assert response.json()["id"] in ids(browser.get("/api/v1/claims/"))
    # Past the window it reads the replica again.
    settings.REPLICA_READ_AFTER_WRITE_SECONDS = 0
    browser.cookies.pop(replicas.PIN_COOKIE)
    assert response.json()["id"] not in ids(browser.get("/api/v1/claims/"))


def test_a_token_client_reads_its_write_from_the_primary_though_redis_was_down_then(
    replica: Replica, settings: Any
) -> None:
    _, key = writer_with_token(settings)
    token_client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    redis_up = settings.CACHES
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")  # Redis killed

    created = token_client.post(
        "/api/v1/claims/",
        {"text": "Written while Redis was down.", "state": "published"},
        content_type="application/json",
    )
    token_client.cookies.clear()  # a script keeps no cookies
    settings.CACHES = redis_up  # back, knowing nothing of that write,
    reset_local_counts()  # and past the time a process does without it after a failure

    assert created.status_code == 201, created.content
    new = created.json()["id"]
    assert new in ids(token_client.get("/api/v1/claims/"))
    assert new not in ids(Client().get("/api/v1/claims/"))  # the replica, still behind


def test_a_replica_lagging_past_the_bound_is_skipped(replica: Replica, settings: Any) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 1
    caught_up()
    assert Client().get("/readyz").json()["checks"][ALIAS]["ok"] is True
    set_replay(paused=True)
    late = ClaimFactory()
    time.sleep(1.5)

    assert late.pk in ids(Client().get("/api/v1/claims/"))  # from the primary
    ready = Client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"][ALIAS]["error"] == "Lagging"
    assert ready.json()["checks"][ALIAS]["lag_s"] >= 1

    set_replay(paused=False)
    caught_up()
    replicas.forget_checks()
    assert Client().get("/readyz").status_code == 200
    with CaptureQueriesContext(connections[ALIAS]) as on_replica:
        assert late.pk in ids(Client().get("/api/v1/claims/"))
    assert any("claims_claim" in query["sql"] for query in on_replica.captured_queries)


def test_a_stopped_replica_is_skipped_and_readyz_says_so_until_it_is_back(
    replica: Replica,
) -> None:
    claim = ClaimFactory()
    replica.stop()
    try:
        connections[ALIAS].close()
        started = time.monotonic()
        assert ids(Client().get("/api/v1/claims/")) == {claim.pk}  # from the primary
        assert time.monotonic() - started < 15  # not a wait per query
        ready = Client().get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"][ALIAS] == {
            "ok": False,
            "error": "OperationalError",
            "ms": ready.json()["checks"][ALIAS]["ms"],
        }
        assert ready.json()["checks"]["database"]["ok"] is True
    finally:
        replica.start()
    replicas.forget_checks()
    deadline = time.monotonic() + 30
    while (ready := Client().get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, ready.content
        time.sleep(0.2)
    assert Claim.objects.count() == 1


def test_a_replica_that_stopped_streaming_is_skipped(replica: Replica) -> None:
    """Cut off from the primary, a replica has replayed all it received: it would look up to
    date however far the primary has gone."""
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SHOW primary_conninfo")
        (conninfo,) = cursor.fetchone()
    set_conninfo("host=127.0.0.1 port=1")  # nothing listens there
    try:
        wait_for_receiver(streaming=False)
        late = ClaimFactory()
        replicas.forget_checks()

        assert late.pk in ids(Client().get("/api/v1/claims/"))  # from the primary
        ready = Client().get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"][ALIAS]["error"] == "Lagging"
        assert ready.json()["checks"][ALIAS]["lag_s"] is None  # unknown, and valid JSON
    finally:
        set_conninfo(conninfo)
    wait_for_receiver(streaming=True)
    caught_up()


def set_conninfo(conninfo: str) -> None:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute(
            f"ALTER SYSTEM SET primary_conninfo = '{conninfo.replace(chr(39), chr(39) * 2)}'"
        )
        cursor.execute("SELECT pg_reload_conf()")


def wait_for_receiver(*, streaming: bool) -> None:
    deadline = time.monotonic() + 30
    with connections[ALIAS].cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')"
            )
            if cursor.fetchone()[0] == streaming:
                return
            assert time.monotonic() < deadline, (
                f"the replica's streaming did not become {streaming}"
            )
            time.sleep(0.1)


def test_a_replica_failing_during_a_request_is_read_again_from_the_primary(
    replica: Replica, settings: Any
) -> None:
    settings.REPLICA_CHECK_SECONDS = 600  # the replica was fine when last checked
    claim = ClaimFactory()
    caught_up()
    assert ids(Client().get("/api/v1/claims/")) == {claim.pk}
    replica.stop()
    try:
        connections[ALIAS].close()

        # Its reads fail (logged, as any failure is), then are made on the primary.
        response = Client(raise_request_exception=False).get("/api/v1/claims/")

        assert ids(response) == {claim.pk}
        assert replicas.usable_replica() is None  # skipped from now on, until checked
    finally:
        replica.start()


def test_a_page_whose_replica_fails_is_read_again_from_the_primary(
    replica: Replica, settings: Any
) -> None:
    settings.REPLICA_CHECK_SECONDS = 600
    claim = ClaimFactory()
    caught_up()
    assert Client().get(f"/claims/{claim.pk}/").status_code == 200  # from the replica
    replica.stop()
    try:
        connections[ALIAS].close()
        response = Client(raise_request_exception=False).get(f"/claims/{claim.pk}/")
        assert response.status_code == 200
        assert claim.text[:40] in response.content.decode()
    finally:
        replica.start()


@contextlib.contextmanager
def hung(server: Replica) -> Iterator[None]:
    """Every process of the server stopped (SIGSTOP), as a frozen host or a stuck disk
    leaves it: its kernel still accepts connections and acknowledges what is sent."""
    postmaster = int((server.directory / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(  # noqa: S603
        ["/usr/bin/pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
    ).stdout.split()
    pids = [postmaster, *map(int, children)]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def test_a_hung_replica_is_skipped_within_its_bound_and_the_primary_answers(
    replica: Replica, settings: Any
) -> None:
    settings.REPLICA_QUERY_WAIT_SECONDS = 1
    settings.READYZ_WAIT_SECONDS = 1
    claim = ClaimFactory()
    caught_up()
    assert ids(Client().get("/api/v1/claims/")) == {claim.pk}  # its connection, kept
    assert connections[ALIAS].connection is not None
    settings.REPLICA_CHECK_SECONDS = 60  # no fresh check meanwhile: the kept connection hangs

    # (The test client would raise the replica's error, which the app handled.)
    reader = Client(raise_request_exception=False)
    with hung(replica):
        started = time.monotonic()
        answered = reader.get("/api/v1/claims/")
        took = time.monotonic() - started
        page = reader.get(f"/claims/{claim.pk}/")
        ready = reader.get("/readyz")
        readyz_took = time.monotonic() - started - took

    assert ids(answered) == {claim.pk}  # from the primary
    assert took < 10, f"the request waited {took:.1f} s on a hung replica"
    assert page.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"][ALIAS]["ok"] is False
    assert ready.json()["checks"]["database"]["ok"] is True
    assert readyz_took < 15


def test_readyz_says_503_for_a_hung_primary_within_its_bound(streaming_replica: Replica) -> None:
    """A server whose database is the (stopped) standby: /readyz answers, and says so."""
    db = connection.settings_dict
    standby = f"postgres://{db['USER']}@127.0.0.1:{streaming_replica.port}/{db['NAME']}"
    with gunicorn(DATABASE_URL=standby, GUNICORN_WORKERS="1", READYZ_WAIT_SECONDS="1") as port:
        url = f"http://127.0.0.1:{port}/readyz"
        assert httpx.get(url, timeout=10).status_code == 200  # its connection is now kept
        with hung(streaming_replica):
            started = time.monotonic()
            response = httpx.get(url, timeout=30)
            took = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
    assert took < 10, f"/readyz took {took:.1f} s"
