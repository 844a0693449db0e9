"""Calls pages. Views are short: forms validate, services decide and act, selectors read."""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calls import selectors, summary
from calls.forms import EndForm, RedirectForm, StartCallForm, TransferForm, new_key
from calls.services.live import call_end, call_redirect, call_transfer
from calls.services.outcome import ActionResult, CallRefused
from calls.services.start import call_start
from portal.graph.directory import is_object_id
from portal.permissions import require_capability
from portal.roles import user_has_capability

PICKER_FIELDS = ("person", "target")


@require_GET
def call_list(request):
    calls = selectors.calls_for_user(request.user)[:100]
    return render(request, "calls/list.html", {"calls": calls})


@require_GET
@require_capability("see_incoming_calls")
def incoming(request):
    """The ringing incoming calls, polled by the list page for helpdesk."""
    return render(request, "calls/_incoming.html", {"ringing": selectors.ringing_incoming_calls()})


@require_http_methods(["GET", "POST"])
def start(request):
    form = _start_form(request)
    if not _may_place_calls(request.user, form):
        return _cannot_place_calls(request, form)
    if request.method == "POST" and form.is_valid():
        placed = _place_call(request, form)
        if placed is not None:
            return placed
    chosen = _chosen_person(request.POST.get("person") or request.GET.get("target"))
    return render(request, "calls/start.html", _start_context(request, form, chosen))


def _place_call(request, form: StartCallForm):
    """The call's page once the call is placed (or was, by this form); None when refused."""
    data = form.cleaned_data
    try:
        result = call_start(
            user=request.user,
            idempotency_key=data["idempotency_key"],
            person=data["person"],
            phone=data["phone"],
            on_behalf_of=data["on_behalf_of"],
            request=request,
        )
    except CallRefused as refused:
        form.add_error(None, refused.reason)
        return None
    _show_result(request, result, "This form was sent already: here is the call it started.")
    return redirect("calls:detail", pk=result.call.pk)


def _cannot_place_calls(request, form: StartCallForm):
    """The page says why, without the person picker and without looking anyone up; a posted
    form's own refusals (a grant withdrawn since the form was shown) are said too."""
    if form.is_bound and not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return render(request, "calls/start.html", _start_context(request, form, None), status=403)


def _start_form(request) -> StartCallForm:
    if request.method == "POST":
        return StartCallForm(request.POST, user=request.user)
    initial = {"idempotency_key": new_key(), "on_behalf_of": request.GET.get("on_behalf_of")}
    return StartCallForm(initial=initial, user=request.user)


def _may_place_calls(user, form: StartCallForm | None = None) -> bool:
    """Placing calls of one's own, or on behalf of someone whose grant allows it."""
    if user_has_capability(user, "place_calls_any"):
        return True
    return bool(form.delegators if form is not None else selectors.eligible_delegators(user))


def _chosen_person(object_id: str | None) -> PickerPerson | None:
    # Only an object id is looked up (PostgreSQL refuses a NUL in any text parameter).
    person = selectors.directory_person(object_id) if is_object_id(object_id) else None
    return PickerPerson.of(person) if person else None


class PickerPerson(NamedTuple):
    """What the person picker shows of someone: enough to tell two namesakes apart."""

    pk: int
    object_id: str
    label: str
    upn: str

    @classmethod
    def of(cls, person) -> PickerPerson:
        return cls(person.pk, person.object_id, person.label, person.upn)


def _start_context(request, form, chosen) -> dict:
    return {
        "form": form,
        "chosen": chosen,
        "chosen_people": [chosen] if chosen else [],
        "me": selectors.directory_person(request.user.object_id),
        "phone_ready": bool(settings.CALLS_APP_INSTANCE_ID),
        "app_number": settings.CALLS_APP_INSTANCE_NUMBER,
        "default_region": settings.CALLS_DEFAULT_REGION,
    }


@require_GET
def detail(request, pk):
    call = selectors.call_for_user(request.user, pk)
    return render(request, "calls/detail.html", _detail_context(request, call))


def _detail_context(request, call) -> dict:
    context = {
        "call": call,
        "end_form": EndForm(initial={"idempotency_key": new_key()}),
        "receivers": selectors.receivers_for(call.on_behalf_of),
        **_live_context(call),
    }
    incoming = call.direction == call.Direction.INCOMING
    if not incoming and not call.rings_me_first:
        context["transfer_form"] = TransferForm(
            initial={"idempotency_key": new_key()}, user=request.user, call=call
        )
    elif incoming and user_has_capability(request.user, "see_incoming_calls"):
        called = selectors.directory_person(call.called_object_id)
        context["redirect_form"] = RedirectForm(initial={"idempotency_key": new_key()})
        context["called"] = called
        context["called_receivers"] = selectors.receivers_for(called)
    return context


def _live_context(call) -> dict:
    events = list(call.events.all())
    deadline = selectors.redirect_deadline(call)
    return {
        "call": call,
        "summary": summary.summarise(call),
        "timeline": summary.timeline(call, events, call.actions.select_related("requested_by")),
        "events": events,
        "redirect_deadline": deadline,
        "redirect_seconds_left": summary.seconds_left(deadline),
    }


@require_GET
def live(request, pk):
    """The call's state and timeline: polled by the call page until the call has ended."""
    call = selectors.call_for_user(request.user, pk)
    response = render(request, "calls/_live.html", _live_context(call))
    if call.is_over and request.headers.get("HX-Request"):
        # The call has just ended under the person's eyes: reload once so the action forms go.
        response["HX-Refresh"] = "true"
    return response


@require_POST
def transfer(request, pk):
    call = selectors.call_for_user(request.user, pk)
    form = TransferForm(request.POST, user=request.user, call=call)
    return _act_on_call(request, call, form, call_transfer, target="target", replaces="replaces")


@require_POST
@require_capability("see_incoming_calls")
def redirect_call(request, pk):
    call = selectors.call_for_user(request.user, pk)
    return _act_on_call(request, call, RedirectForm(request.POST), call_redirect, targets="targets")


@require_POST
def end(request, pk):
    call = selectors.call_for_user(request.user, pk)
    return _act_on_call(request, call, EndForm(request.POST), call_end)


def _act_on_call(request, call, form, service, **fields):
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect("calls:detail", pk=call.pk)
    data = form.cleaned_data
    try:
        result = service(
            user=request.user,
            call=call,
            idempotency_key=data["idempotency_key"],
            request=request,
            **{arg: data.get(name) for arg, name in fields.items()},
        )
    except CallRefused as refused:
        messages.error(request, refused.reason)
    else:
        _show_result(request, result, "This form was sent already: nothing more was done.")
    return redirect("calls:detail", pk=call.pk)


def _show_result(request, result: ActionResult, repeated: str) -> None:
    if not result.created:
        messages.info(request, repeated)
    if result.error:
        messages.error(request, result.error)
    if result.note:
        messages.warning(request, result.note)


@require_GET
def people(request):
    """The person picker's results (htmx): radio buttons for the form field asked for. Only for
    people who may place a call, and only what the picker shows of each person."""
    if not _may_place_calls(request.user):
        context = {"capability": "Start calls, your own or on behalf of someone"}
        return render(request, "portal/forbidden.html", context, status=403)
    field = request.GET.get("field")
    if field not in PICKER_FIELDS:
        field = "person"
    found = [PickerPerson.of(p) for p in selectors.search_people(request.GET.get("q", ""))]
    return render(request, "calls/_people.html", {"people": found, "field": field})
