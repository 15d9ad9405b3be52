"""Django's PostgreSQL backend, with every wait of a request bounded (config.bounds)."""

from typing import Any

from django.db.backends.postgresql import base

from config.bounds import WATCHDOG, watch_query


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # First in the list: Django's execute_wrapper() blocks remove the last one on leaving.
        self.execute_wrappers.insert(0, watch_query)

    def is_usable(self) -> bool:
        # Django's check of a kept connection runs its own query, past execute wrappers;
        # so do commits and rollbacks.
        with WATCHDOG.watching(self):
            return bool(super().is_usable())

    def _commit(self) -> None:
        with WATCHDOG.watching(self):
            super()._commit()  # type: ignore[misc]

    def _rollback(self) -> None:
        with WATCHDOG.watching(self):
            super()._rollback()  # type: ignore[misc]
