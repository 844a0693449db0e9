"""Review campaigns, read only: the list (keyset cursor on id) and one campaign with each
reviewer's progress. Starting, deciding and closing stay on the pages, where a person acts."""

from __future__ import annotations

from ninja import Query, Router

from api import pagination, schemas
from api.auth import require
from api.problems import ApiProblem, responses
from reviews import selectors

router = Router(tags=["reviews"])
CampaignPage = schemas.page_of(schemas.Campaign)
CAPABILITY = "run_review_campaigns"


@router.get("/review-campaigns", response=responses({200: CampaignPage}))
def list_review_campaigns(request, cursor: str = Query("", max_length=400)):
    """Newest first, 25 a page, each with how many of its grants are decided."""
    require(request, CAPABILITY)
    rows, before = selectors.campaigns_page(pagination.decode(cursor, "review-campaigns"))
    more = pagination.encode("review-campaigns", before) if before else None
    return {"items": [schemas.campaign_of(c, c.decided) for c in rows], "next_cursor": more}


@router.get(
    "/review-campaigns/{campaign_id}", response=responses({200: schemas.CampaignDetail}, 404)
)
def get_review_campaign(request, campaign_id: int):
    """One campaign and each reviewer's progress (decided of assigned)."""
    require(request, CAPABILITY)
    campaign = selectors.campaign(campaign_id)
    if campaign is None:
        raise ApiProblem(404, "No such review campaign.", ["not_found"])
    progress = [schemas.reviewer_progress(p) for p in selectors.progress(campaign)]
    decided = selectors.decided_count(campaign)
    return {**schemas.campaign_of(campaign, decided), "reviewers_progress": progress}
