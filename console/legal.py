"""The pages every French public site must have: accessibility statement and personal data."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.database import settings_of
from console.templating import render

# Where people write about accessibility and personal data. A setting would let each
# deployment name its own; until then this is the service's published address.
CONTACT_EMAIL: Final = "contact@retour.numerique.gouv.fr"
STATEMENT_DATE: Final = "23 novembre 2026"


async def accessibility(request: Request) -> Response:
    return render(
        request,
        "public/accessibilite.html",
        {"contact": CONTACT_EMAIL, "statement_date": STATEMENT_DATE},
    )


async def personal_data(request: Request) -> Response:
    settings = settings_of(request)
    return render(
        request,
        "public/donnees_personnelles.html",
        {
            "contact": CONTACT_EMAIL,
            "retention_days": settings.contact_retention_days,
            "retention_months": round(settings.contact_retention_days / 30.5),
        },
    )


routes = [
    Route("/accessibilite", accessibility, name="accessibility"),
    Route("/donnees-personnelles", personal_data, name="personal_data"),
]
