"""A fresh database for one benchmark: a SQLite file in a temporary directory, or, when
`--database-url` names a PostgreSQL server, a new database there (created here, dropped after;
the URL's role needs CREATEDB, as CI's `portal` role has); `django_on` also sets the portal's
Django up on it, in a temporary run directory, and drops it after."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@dataclass
class Database:
    url: str  # DATABASE_URL
    name: str  # Django's settings_dict["NAME"]: the file, or the database's name
    drop: Callable[[], None]


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("postgres", "postgresql", "pgsql")


def vendor(url: str | None) -> str:
    return "postgresql" if is_postgres(url) else "sqlite"


def fresh(url: str | None, work: Path, name: str) -> Database:
    """A new, empty database beside `url` (or a SQLite file under `work` without one)."""
    if not is_postgres(url):
        path = work / f"{name}.sqlite3"
        return Database(f"sqlite:///{path}", str(path), lambda: None)
    import psycopg

    database = f"bench_{name}_{os.getpid()}"
    libpq_url = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
    with psycopg.connect(libpq_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.execute(f'CREATE DATABASE "{database}"')

    def drop() -> None:
        with psycopg.connect(libpq_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    return Database(urlunsplit(urlsplit(url)._replace(path=f"/{database}")), database, drop)


@contextmanager
def django_on(url: str | None, *names: str) -> Iterator[list[Database]]:
    """Fresh databases `names` (see `fresh`), Django set up on the first; dropped after."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{names[0]}-") as tmp:
        databases = [fresh(url, Path(tmp), name) for name in names]
        _setup_django(databases[0], tmp)
        from django.db import connection

        try:
            yield databases
        finally:
            connection.close()
            for database in databases:
                database.drop()


def _setup_django(db: Database, run_dir: str) -> None:
    """The portal's settings pointed at `db`, and Django set up. DEBUG keeps the query log the
    benchmarks count; the test client's host is allowed."""
    os.environ.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": db.url,
            "PORTAL_RUN_DIR": run_dir,
            "ALLOWED_HOSTS": "testserver,localhost",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
