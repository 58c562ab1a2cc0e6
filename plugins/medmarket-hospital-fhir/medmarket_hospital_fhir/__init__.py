"""MedMarket hospital adapter for partner hospitals that run a FHIR R4 server.

Adapter type id ``fhir-r4``; its configuration is ``FhirHospitalConfig``. Every request has
a timeout (``timeout_seconds``), and a server that is down, slow, refuses or answers
something that is not the FHIR we read raises ``FhirError``, which the platform's error
boundary turns into "the hospital's systems did not answer".
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from medmarket import HealthReport, HospitalAdapterType, hookimpl
from medmarket.settings import Settings
from medmarket_hospital_fhir.adapter import FhirHospital, FhirHospitalConfig
from medmarket_hospital_fhir.client import FhirClient, FhirError

ADAPTER_TYPE_ID = "fhir-r4"
# Hospitals reached over a VPN have private addresses; production must allow them explicitly.
ALLOW_PRIVATE_NETWORKS = "MEDMARKET_FHIR_ALLOW_PRIVATE_NETWORKS"

__all__ = [
    "ADAPTER_TYPE_ID",
    "ALLOW_PRIVATE_NETWORKS",
    "FhirError",
    "FhirHospital",
    "FhirHospitalConfig",
    "FhirHospitalType",
    "allows_private_networks",
]


class FhirHospitalType:
    id = ADAPTER_TYPE_ID
    display_name = "FHIR R4 server"
    config_type = FhirHospitalConfig

    def __init__(self, *, allow_private_networks: bool = True) -> None:
        self.allow_private_networks = allow_private_networks

    def create(self, config: FhirHospitalConfig) -> FhirHospital:
        client = FhirClient(
            config.base_url,
            timeout_seconds=config.timeout_seconds,
            bearer_token=config.bearer_token,
            allow_private_networks=self.allow_private_networks,
        )
        return FhirHospital(config, client)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True, detail="each hospital's server is checked on its own")


def allows_private_networks(settings: Settings) -> bool:
    """Outside production, yes (tests and development run FHIR servers locally); in
    production only when the operator says so."""
    explicit = os.environ.get(ALLOW_PRIVATE_NETWORKS, "").strip().lower()
    if explicit:
        return explicit in ("1", "true", "yes")
    return not settings.is_production


@hookimpl
def medmarket_hospital_adapters(settings: Settings) -> Sequence[HospitalAdapterType]:
    return [FhirHospitalType(allow_private_networks=allows_private_networks(settings))]
