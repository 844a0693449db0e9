"""Reminders: in the last REVIEW_REMIND_DAYS before a campaign's due date, each reviewer with
grants still to review gets one email a day (Django's send_mail, the project's email settings)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from delegation.models import DirectoryUser
from reviews.models import Campaign, CampaignItem
from reviews.services import campaign_audit


def due_for_reminders(today) -> list[Campaign]:
    window = today + timedelta(days=settings.REVIEW_REMIND_DAYS)
    return list(
        Campaign.objects.filter(status=Campaign.Status.OPEN, due_on__gte=today, due_on__lte=window)
        .exclude(reminded_on=today)
        .order_by("pk")
    )


def send_reminders(today=None) -> int:
    """Email every reviewer with unreviewed items in campaigns due soon; returns emails sent.
    A campaign is marked reminded for the day first, so a second run that day sends nothing."""
    today = today or timezone.localdate()
    sent = 0
    for campaign in due_for_reminders(today):
        updated = Campaign.objects.filter(pk=campaign.pk).exclude(reminded_on=today)
        if not updated.update(reminded_on=today):
            continue  # another worker took this campaign's reminders today
        sent += _remind(campaign)
    return sent


def _remind(campaign: Campaign) -> int:
    waiting = (
        CampaignItem.objects.filter(campaign=campaign, decision="", reviewer__isnull=False)
        .values("reviewer")
        .annotate(n=Count("id"))
        .values_list("reviewer", "n")
    )
    counts = dict(waiting)
    people = DirectoryUser.objects.filter(pk__in=list(counts)).only("display_name", "mail", "upn")
    link = settings.PORTAL_URL + reverse("reviews:queue")
    sent = 0
    for person in people:
        address = person.mail or person.upn
        if not address:
            continue
        n = counts[person.pk]
        sent += send_mail(
            subject=f"{n} grant{'s' if n != 1 else ''} to review by {campaign.due_on:%d %b %Y}",
            message=(
                f"Hello {person.display_name or address},\n\n"
                f'The review campaign "{campaign.name}" asks you to keep or revoke {n} Teams '
                f"call delegation grant{'s' if n != 1 else ''} by {campaign.due_on:%d %b %Y}. "
                f"It closes at the end of that day, and what nobody reviewed by then is "
                f"{'kept' if campaign.when_unreviewed == 'keep' else 'revoked'}.\n\n"
                f"Your reviews: {link}\n"
            ),
            from_email=None,
            recipient_list=[address],
        )
    campaign_audit.record(campaign, "remind", emails=sent)
    return sent
