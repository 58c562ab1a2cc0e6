"""What the remote consultations domain adds: doctors asking an expert or a team (MDT) for
an advisory opinion on a patient of their visits (远程会诊), the API of its requester and
its experts. No handlers or jobs yet: the video room and payment between hospitals are
later increments."""

from __future__ import annotations

from medmarket.domain import Domain
from medmarket.remote_consults import routes

DOMAIN = Domain(
    name="remote_consults",
    routes=routes.ROUTES,
    dependencies=routes.DEPENDENCIES,
)
