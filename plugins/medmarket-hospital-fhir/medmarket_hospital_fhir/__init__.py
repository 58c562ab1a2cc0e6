"""MedMarket hospital adapter for partner hospitals that run a FHIR R4 server.

Adapter type id ``fhir-r4``; its configuration is ``FhirHospitalConfig``. Every request has
a timeout (``timeout_seconds``), and a server that is down, slow, refuses or answers
something that is not the FHIR we read raises ``FhirError``, which the platform's error
boundary turns into "the hospital's systems did not answer".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from medmarket import HealthReport, HospitalAdapterType, OutboundPolicy, Settings, hookimpl
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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FhirHospitalType:
    """``outbound`` decides which addresses a hospital's base URL may reach (the operator's
    ``MEDMARKET_OUTBOUND_ALLOWED_NETWORKS``); ``time_zone`` is the platform's calendar, in
    which an ended role's last day is written; ``now`` is the clock (tests fix it)."""

    id = ADAPTER_TYPE_ID
    display_name = "FHIR R4 server"
    config_type = FhirHospitalConfig

    def __init__(
        self,
        *,
        outbound: OutboundPolicy,
        time_zone: dt.tzinfo,
        now: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.outbound = outbound
        self.time_zone = time_zone
        self.now = now

    @classmethod
    def from_settings(cls, settings: Settings) -> FhirHospitalType:
        return cls(outbound=OutboundPolicy.from_settings(settings), time_zone=settings.calendar)

    def create(self, config: FhirHospitalConfig) -> FhirHospital:
        client = FhirClient(
            config.base_url,
            timeout_seconds=config.timeout_seconds,
            bearer_token=config.bearer_token,
            outbound=self.outbound,
        )
        return FhirHospital(config, client, today=self.today)

    def today(self) -> dt.date:
        """Today on the platform's calendar."""
        return self.now().astimezone(self.time_zone).date()

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True, detail="each hospital's server is checked on its own")


@hookimpl
def medmarket_hospital_adapters(settings: Settings) -> Sequence[HospitalAdapterType]:
    return [FhirHospitalType.from_settings(settings)]
