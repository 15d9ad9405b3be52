"""Failed background tasks, as an editor reads them: what, why in words, when; and a way
to run one again. (Every task, in any state, is django-tasks-db's own admin page.)"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tasks import TaskResultStatus

from jobs.engine import error_in_words
from jobs.models import FailedTask


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    list_display = ["task", "about", "error", "finished_at"]
    list_filter = ["task_path"]
    ordering = ["-finished_at"]
    actions = ["retry"]
    fields = ("task", "about", "error", "enqueued_at", "finished_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FailedTask]:
        return (
            super()
            .get_queryset(request)
            .filter(status=TaskResultStatus.FAILED)
            .defer("return_value")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.view_failedtask")

    @admin.display(description="task", ordering="task_path")
    def task(self, result: FailedTask) -> str:
        return result.task_path.rsplit(".", 1)[-1].replace("_", " ").capitalize()

    @admin.display(description="about")
    def about(self, result: FailedTask) -> str:
        args = result.args_kwargs.get("args", []) if isinstance(result.args_kwargs, dict) else []
        return ", ".join(str(arg) for arg in args) or "-"

    @admin.display(description="why it failed")
    def error(self, result: FailedTask) -> str:
        return error_in_words(result)

    @admin.action(description="Run again", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        """Each selected task enqueued again, from its first attempt; the failed run it
        replaces leaves this list."""
        done = 0
        for result in queryset.filter(status=TaskResultStatus.FAILED):
            kwargs = dict(result.args_kwargs.get("kwargs", {}))
            kwargs.pop("attempt", None)
            result.task.enqueue(*result.args_kwargs.get("args", []), **kwargs)
            result.delete()
            done += 1
        self.message_user(request, f"{done} task(s) queued again.", messages.SUCCESS)
