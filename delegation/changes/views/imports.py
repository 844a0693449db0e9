"""CSV import: upload -> dry run (counts, each row's errors) -> apply (a Celery job) -> progress
bar -> each row's outcome.

The upload refuses a body over the size limit from its Content-Length, before Django parses it
(so before the CSRF check reads the form: a refusal changes nothing); the service reads at most
the limit plus one byte of what got through, and Django spools uploads above
FILE_UPLOAD_MAX_MEMORY_SIZE to disk, never into memory.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.changes import csv_import, selectors
from delegation.changes.forms import ImportForm
from delegation.changes.services import batch as batch_service
from delegation.changes.services.request import ChangeRefused
from delegation.changes.views.grants import refused
from portal.views.lookup import found

FORM_OVERHEAD = 64 * 1024  # multipart headers and the CSRF field around the file


def _too_big(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.DELEGATION_CSV_MAX_BYTES + FORM_OVERHEAD


def _limit_words() -> str:
    return f"The file is larger than {settings.DELEGATION_CSV_MAX_BYTES // (1024 * 1024)} MB."


@csrf_exempt  # checked by csrf_protect below, once the body is known to be of a sane size
@require_http_methods(["GET", "POST"])
def upload(request):
    if request.method == "POST" and _too_big(request):
        context = {"form": ImportForm(), "refused": _limit_words()}
        return render(request, "changes/import.html", context, status=413)
    return _upload(request)


@csrf_protect
def _upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            batch = batch_service.dry_run(
                request.user, upload_file, file_name=upload_file.name, request=request
            )
        except csv_import.FileRefused as exc:
            form.add_error("file", exc.words)
        else:
            return redirect("changes:batch", pk=batch.pk)
    return render(request, "changes/import.html", {"form": form})


def _batch(request, pk: int):
    return found(selectors.batch_for_user(request.user, pk), "No such import.")


@require_GET
def batch_detail(request, pk: int):
    """The dry run (before) or the outcome per row (after), with the progress bar meanwhile."""
    page = _batch(request, pk)
    return render(request, "changes/batch.html", {"page": page, **_progress(page.batch)})


def _progress(batch) -> dict:
    running = batch.status in (batch.Status.QUEUED, batch.Status.RUNNING)
    return {"batch": batch, "finished": not running, "percent": batch.percent_done}


@require_GET
def batch_progress(request, pk: int):
    """The fragment htmx polls; when the job has ended the page reloads to show the outcome."""
    batch = found(selectors.batch_progress(request.user, pk), "No such import.")
    context = _progress(batch)
    response = render(request, "changes/_batch_progress.html", context)
    if context["finished"] and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_POST
def batch_apply(request, pk: int):
    page = _batch(request, pk)
    try:
        batch_service.apply_batch(request.user, page.batch.pk, request=request)
    except ChangeRefused as exc:
        refused(request, exc)
    else:
        messages.success(request, "The import is being applied.")
    return redirect("changes:batch", pk=page.batch.pk)
