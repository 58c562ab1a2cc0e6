"""Message catalogs (``web/locales/<locale>.toml``) and choosing a request's language.

A catalog is a TOML file of tables; ``[sign_in] title = "登录"`` is the key ``sign_in.title``.
Messages are plain text (templates escape them) with ``{name}`` placeholders filled by
``str.format_map``. Both catalogs must hold the same keys with the same placeholders (a test
checks it), so a missing translation is caught before a person sees a key.
"""

from __future__ import annotations

import logging
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from medmarket.accounts.service import Principal

log = logging.getLogger("medmarket.pages.i18n")

SUPPORTED_LOCALES: Final = ("zh-CN", "en")
# The cookie remembers a signed-out visitor's choice; a signed-in person's saved locale wins.
LOCALE_COOKIE: Final = "mm_locale"
LOCALE_COOKIE_MAX_AGE: Final = 365 * 24 * 3600


class MissingMessage(KeyError):
    """A template asked for a key no catalog holds (raised only in strict mode: tests)."""


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise ValueError(f"catalog entry {name} must be text, not {type(value).__name__}")
    return flat


def placeholders(message: str) -> frozenset[str]:
    """The ``{names}`` a message expects."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


class Translator:
    """``t("key", name=value)`` in one locale; falls back to the default locale's text."""

    def __init__(
        self,
        locale: str,
        messages: Mapping[str, str],
        fallback: Mapping[str, str],
        *,
        strict: bool,
    ) -> None:
        self.locale = locale
        self._messages = messages
        self._fallback = fallback
        self._strict = strict

    def get(self, key: str, /, **params: Any) -> str | None:
        """The message for ``key``, or None when no catalog has it (for keys built at run
        time, such as error codes, whose absence has a sensible fallback)."""
        message = self._messages.get(key) or self._fallback.get(key)
        if message is None:
            return None
        return message.format_map(params) if params else message

    def __call__(self, key: str, /, **params: Any) -> str:
        message = self.get(key, **params)
        if message is not None:
            return message
        if self._strict:
            raise MissingMessage(key)
        log.warning("no message %r in any catalog", key)
        return key


class Catalogs:
    def __init__(
        self, messages: Mapping[str, Mapping[str, str]], default_locale: str, *, strict: bool
    ) -> None:
        if default_locale not in messages:
            raise ValueError(f"no catalog for the default locale {default_locale}")
        self.messages = messages
        self.default_locale = default_locale
        self.strict = strict

    @classmethod
    def load(cls, directory: Path, default_locale: str, *, strict: bool = False) -> Catalogs:
        messages: dict[str, dict[str, str]] = {}
        for locale in SUPPORTED_LOCALES:
            path = directory / f"{locale}.toml"
            with path.open("rb") as handle:
                messages[locale] = flatten(tomllib.load(handle))
        return cls(messages, default_locale, strict=strict)

    def translator(self, locale: str) -> Translator:
        chosen = locale if locale in self.messages else self.default_locale
        return Translator(
            chosen,
            self.messages[chosen],
            self.messages[self.default_locale],
            strict=self.strict,
        )


def choose_locale(principal: Principal | None, cookie: str | None, default: str) -> str:
    """The signed-in person's saved locale, else the visitor's cookie, else the default.
    (Accept-Language is not consulted: the marketplace speaks Chinese unless asked not to.)"""
    if principal is not None and principal.locale in SUPPORTED_LOCALES:
        return principal.locale
    if cookie in SUPPORTED_LOCALES:
        return str(cookie)
    return default
