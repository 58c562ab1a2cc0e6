"""The adapter form generated from a configuration's JSON Schema, and the form read back."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from medmarket.errors import InvalidInput
from medmarket.hospitals.config_form import ConfigForm, config_form, read_config, shown_values


class Nested(msgspec.Struct):
    name: str


class Config(msgspec.Struct, kw_only=True):
    base_url: str
    level: int = 3
    ratio: float = 0.5
    enabled: bool = False
    since: dt.date | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    people: list[Nested] = msgspec.field(default_factory=list)
    mode: str = "a"
    api_token: str | None = None


def form() -> ConfigForm:
    schema = msgspec.json.schema(Config)
    schema["$defs"]["Config"]["properties"]["mode"]["enum"] = ["a", "b"]
    return config_form(schema, ["api_token"])


def test_each_property_becomes_a_field_of_its_kind() -> None:
    kinds = {spec.name: (spec.kind, spec.required, spec.secret) for spec in form().fields}
    assert kinds == {
        "base_url": ("text", True, False),
        "level": ("number", False, False),
        "ratio": ("number", False, False),
        "enabled": ("boolean", False, False),
        "since": ("date", False, False),
        "tags": ("lines", False, False),
        "people": ("json", False, False),
        "mode": ("choice", False, False),
        "api_token": ("text", False, True),
    }
    assert next(f for f in form().fields if f.name == "mode").choices == ("a", "b")


def test_a_form_reads_back_into_what_the_adapter_validates() -> None:
    submitted = {
        "config.base_url": " https://x.example ",
        "config.level": "4",
        "config.enabled": "yes",
        "config.tags": "甲\n\n乙 ",
        "config.people": '[{"name": "王"}]',
        "config.api_token": "",
    }
    config = read_config(form(), submitted)
    # Blank optional fields are left out, so the adapter's defaults apply.
    assert config == {
        "base_url": "https://x.example",
        "level": "4",
        "enabled": True,
        "tags": ["甲", "乙"],
        "people": [{"name": "王"}],
    }
    assert "api_token" not in config  # an empty secret keeps the stored one
    converted = msgspec.convert(config, Config, strict=False)
    assert converted.level == 4 and converted.people == [Nested(name="王")]


def test_json_that_does_not_parse_is_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_config(form(), {"config.base_url": "x", "config.people": "[{"})
    assert [(e.field, e.code) for e in refused.value.errors] == [("config.people", "json")]


def test_secrets_are_never_shown_back() -> None:
    values = shown_values(
        form(),
        {"base_url": "https://x", "api_token": "s3cret", "tags": ["a", "b"], "enabled": True},
    )
    assert "config.api_token" not in values
    assert values["config.tags"] == "a\nb" and values["config.enabled"] == "yes"
