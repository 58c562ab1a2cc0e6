"""Fixtures of the 5G plugin's tests: the fake carrier, once per Quality-On-Demand version."""

from video_5g_tests.fixtures import (  # noqa: F401 - fixtures pytest finds here
    fake_carrier,
    qod_openapi,
    qod_spec_path,
    qod_version,
    strictness,
)
