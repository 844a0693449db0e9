from django.urls import path

from reviews.views import campaigns, queue

app_name = "reviews"

urlpatterns = [
    path("mine", queue.queue, name="queue"),
    path("mine/decide", queue.decide, name="decide"),
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new", campaigns.start, name="start"),
    path("campaigns/<int:pk>/", campaigns.campaign, name="campaign"),
    path("campaigns/<int:pk>/close", campaigns.close, name="close"),
    path("campaigns/<int:pk>/reassign", campaigns.reassign, name="reassign"),
    path("campaigns/<int:pk>/removals", campaigns.removals, name="removals"),
    path("campaigns/<int:pk>/report", campaigns.report, name="report"),
    path("campaigns/<int:pk>/report.csv", campaigns.report_csv, name="report_csv"),
]
