"""A hospital adapter's configuration as an HTML form, generated from the adapter type's
JSON Schema (``AdapterTypeOut.config_schema``), and a submitted form read back into the
configuration the service validates.

Each property becomes one field: text, a number, a date, a yes/no box, a choice (``enum``),
one item per line (a list of text), or JSON (anything nested). Secret fields (by the adapter
contract's naming rule) are password boxes that are never filled in: left empty, the stored
secret is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from medmarket.errors import FieldError, InvalidInput

Kind = Literal["text", "number", "date", "boolean", "choice", "lines", "json"]
PREFIX = "config."


@dataclass(frozen=True)
class ConfigField:
    name: str  # the property's name; the form field is "config.<name>"
    kind: Kind
    required: bool
    secret: bool
    choices: tuple[str, ...] = ()
    description: str | None = None
    default: Any = None
    pattern: str | None = None

    @property
    def form_name(self) -> str:
        return PREFIX + self.name


@dataclass(frozen=True)
class ConfigForm:
    fields: list[ConfigField] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [spec.form_name for spec in self.fields]


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})  # type: ignore[no-any-return]
    return node


def _kind(schema: Mapping[str, Any], node: Mapping[str, Any]) -> tuple[Kind, Mapping[str, Any]]:
    """The field kind of a property (an optional ``anyOf [X, null]`` is X)."""
    options = node.get("anyOf")
    if isinstance(options, list):
        concrete = [o for o in options if o.get("type") != "null"]
        if len(concrete) == 1:
            node = {**node, **concrete[0]}
    node = _resolve(schema, node)
    if "enum" in node:
        return "choice", node
    kind = node.get("type")
    if kind == "boolean":
        return "boolean", node
    if kind in ("integer", "number"):
        return "number", node
    if kind == "string":
        return ("date" if node.get("format") == "date" else "text"), node
    if kind == "array" and _resolve(schema, node.get("items", {})).get("type") == "string":
        return "lines", node
    return "json", node


def config_form(config_schema: Mapping[str, Any], secret_fields: list[str]) -> ConfigForm:
    root = _resolve(config_schema, config_schema)
    required = set(root.get("required", []))
    fields = []
    for name, node in root.get("properties", {}).items():
        kind, resolved = _kind(config_schema, node)
        fields.append(
            ConfigField(
                name=name,
                kind=kind,
                required=name in required,
                secret=name in secret_fields,
                choices=tuple(str(choice) for choice in resolved.get("enum", ())),
                description=node.get("description") or resolved.get("description"),
                default=node.get("default"),
                pattern=resolved.get("pattern") if kind == "text" else None,
            )
        )
    return ConfigForm(fields=fields)


def shown_values(form: ConfigForm, config: Mapping[str, Any]) -> dict[str, str]:
    """The stored configuration as the form's text (secrets are never shown back)."""
    values: dict[str, str] = {}
    for spec in form.fields:
        value = config.get(spec.name, spec.default)
        if spec.secret or value is None:
            continue
        if spec.kind == "boolean":
            values[spec.form_name] = "yes" if value else ""
        elif spec.kind == "lines":
            values[spec.form_name] = "\n".join(str(item) for item in value)
        elif spec.kind == "json":
            values[spec.form_name] = json.dumps(value, ensure_ascii=False, indent=2)
        else:
            values[spec.form_name] = str(value)
    return values


def read_config(form: ConfigForm, submitted: Mapping[str, str]) -> dict[str, Any]:
    """The submitted form as the configuration to store. An empty secret, or an empty
    optional field, is left out (the stored secret is kept; the default applies). Only JSON
    that does not parse is refused here; everything else is the adapter's to judge."""
    config: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in form.fields:
        raw = submitted.get(spec.form_name, "")
        if spec.kind == "boolean":
            config[spec.name] = raw == "yes"
            continue
        if not raw.strip():
            continue
        if spec.kind == "lines":
            config[spec.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif spec.kind == "json":
            try:
                config[spec.name] = json.loads(raw)
            except ValueError as exc:
                errors.append(FieldError(field=spec.form_name, message=str(exc), code="json"))
        else:
            config[spec.name] = raw.strip()
    if errors:
        raise InvalidInput("; ".join(e.message for e in errors), errors=errors)
    return config
