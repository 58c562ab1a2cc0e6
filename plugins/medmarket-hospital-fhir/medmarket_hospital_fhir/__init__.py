"""MedMarket hospital adapter for partner hospitals that run a FHIR R4 server.

Adapter type id ``fhir-r4``; its configuration is ``FhirHospitalConfig``. Every request has
a timeout (``timeout_seconds``), and a server that is down, slow, refuses or answers
something that is not the FHIR we read raises ``FhirError``, which the platform's error
boundary turns into "the hospital's systems did not answer".
"""

from __future__ import annotations

from collections.abc import Sequence

from medmarket import HealthReport, HospitalAdapterType, OutboundPolicy, hookimpl
from medmarket.settings import Settings
from medmarket_hospital_fhir.adapter import FhirHospital, FhirHospitalConfig
from medmarket_hospital_fhir.client import UNREACHABLE, FhirClient, FhirError

ADAPTER_TYPE_ID = "fhir-r4"

__all__ = [
    "ADAPTER_TYPE_ID",
    "UNREACHABLE",
    "FhirError",
    "FhirHospital",
    "FhirHospitalConfig",
    "FhirHospitalType",
]


class FhirHospitalType:
    """``outbound`` decides which addresses a hospital's base URL may reach (the operator's
    ``MEDMARKET_OUTBOUND_ALLOWED_NETWORKS``)."""

    id = ADAPTER_TYPE_ID
    display_name = "FHIR R4 server"
    config_type = FhirHospitalConfig

    def __init__(self, *, outbound: OutboundPolicy) -> None:
        self.outbound = outbound

    @classmethod
    def from_settings(cls, settings: Settings) -> FhirHospitalType:
        return cls(outbound=OutboundPolicy.from_settings(settings))

    def create(self, config: FhirHospitalConfig) -> FhirHospital:
        client = FhirClient(
            config.base_url,
            timeout_seconds=config.timeout_seconds,
            bearer_token=config.bearer_token,
            outbound=self.outbound,
        )
        return FhirHospital(config, client)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True, detail="each hospital's server is checked on its own")


@hookimpl
def medmarket_hospital_adapters(settings: Settings) -> Sequence[HospitalAdapterType]:
    return [FhirHospitalType.from_settings(settings)]
