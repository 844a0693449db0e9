"""A digest as one email (plain text and HTML, every value escaped in the HTML), sent through
Django's email framework: the backend comes from EMAIL_URL (console in the demo, SMTP in
production)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from alerts.delivery.result import Result


def message(context: dict, recipients: list[str]) -> EmailMultiAlternatives:
    """`context`: title, facts [(label, n)], rows [dict], more, link (templates/alerts/email.*)."""
    text = render_to_string("alerts/email.txt", context)
    html = render_to_string("alerts/email.html", context)
    mail = EmailMultiAlternatives(
        subject=context["title"],
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no out-of-office replies
    )
    mail.attach_alternative(html, "text/html")
    return mail


def send(context: dict, recipients: list[str]) -> Result:
    """One message to every recipient. A refused address is permanent; anything else (the
    server unreachable, busy, a timeout) is tried again later."""
    try:
        connection = get_connection(fail_silently=False)
        sent = connection.send_messages([message(context, recipients)])
    except smtplib.SMTPRecipientsRefused as exc:
        return Result(False, error=f"recipients refused: {sorted(exc.recipients)}", permanent=True)
    except smtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.smtp_code < 600
        return Result(False, exc.smtp_code, f"SMTP {exc.smtp_code}", permanent=permanent)
    except (smtplib.SMTPException, OSError) as exc:  # timeouts are OSErrors
        return Result(False, error=f"{type(exc).__name__}: {exc}"[:300])
    if not sent:
        return Result(False, error="the email backend sent nothing")
    return Result(True)
