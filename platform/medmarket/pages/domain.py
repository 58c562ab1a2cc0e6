"""What the site's own pages add: home, sign-in and sign-up, account, language switch."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.pages import routes

DOMAIN = Domain(name="pages", pages=routes.ROUTES)
