"""The pages' folder (``web/``): finding it, the Jinja environment over its templates, its
static files and its message catalogs. Built once per app by ``create_app``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import medmarket
from medmarket.accounts.guards import PUBLIC
from medmarket.pages.i18n import Catalogs
from medmarket.settings import Settings, SettingsError, env_name

STATIC_PATH = "/static"
_PACKAGE = Path(medmarket.__file__).resolve().parent
# A wheel carries web/ inside the package (see pyproject's force-include); an editable
# install finds it at the top of the checkout: platform/medmarket/ → ../../web.
_CANDIDATES = (_PACKAGE / "_web", _PACKAGE.parent.parent / "web")


def locate_web_dir(configured: str) -> Path:
    """The folder holding templates/, static/ and locales/."""
    if configured:
        path = Path(configured).expanduser().resolve()
        if not (path / "templates").is_dir():
            raise SettingsError(f"{env_name('web_dir')}: {path} has no templates/ folder")
        return path
    for candidate in _CANDIDATES:
        if (candidate / "templates").is_dir():
            return candidate
    raise SettingsError(
        f"{env_name('web_dir')}: no web/ folder found beside the package; set it to the folder "
        "that holds templates/, static/ and locales/"
    )


@dataclass(frozen=True)
class Policy:
    version: str
    title: str
    paragraphs: list[str]


@dataclass
class WebAssets:
    root: Path
    catalogs: Catalogs
    development: bool
    _versions: dict[str, tuple[float, str]] = field(default_factory=dict)

    @classmethod
    def for_settings(cls, settings: Settings) -> WebAssets:
        root = locate_web_dir(settings.web_dir)
        catalogs = Catalogs.load(
            root / "locales",
            settings.default_locale,
            # Tests fail loudly on a missing key; people see the key and a warning is logged.
            strict=settings.environment == "test",
        )
        return cls(root=root, catalogs=catalogs, development=not settings.is_production)

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def static(self) -> Path:
        return self.root / "static"

    def policy(self, name: str, version: str, locale: str) -> Policy:
        """A policy's text (``web/policies/<name>-<version>.<locale>.txt``: a title line,
        then paragraphs separated by blank lines), in the default locale if not in
        ``locale``. A version without its text is a deployment error: it raises."""
        for candidate in (locale, self.catalogs.default_locale):
            path = self.root / "policies" / f"{name}-{version}.{candidate}.txt"
            if path.is_file():
                title, _, body = path.read_text(encoding="utf-8").strip().partition("\n")
                paragraphs = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
                return Policy(version=version, title=title.strip(), paragraphs=paragraphs)
        raise FileNotFoundError(f"no text of the {name} policy version {version}")

    def environment(self) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates),
            autoescape=jinja2.select_autoescape(("html",), default_for_string=True),
            # A misspelt variable is an error, not a silently empty string.
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=self.development,
        )

    def template_config(self) -> TemplateConfig[JinjaTemplateEngine]:
        return TemplateConfig(instance=JinjaTemplateEngine.from_environment(self.environment()))

    def static_router(self) -> Router:
        return create_static_files_router(
            path=STATIC_PATH,
            directories=[self.static],
            opt=PUBLIC,
            # URLs carry a content version (static_url), so a day of caching is safe.
            cache_control=CacheControlHeader(public=True, max_age=24 * 3600),
            include_in_schema=False,
        )

    def static_url(self, name: str) -> str:
        """``/static/<name>?v=<content hash>``: a changed file gets a new URL, so browsers
        never mix an old script with a new page."""
        path = (self.static / name).resolve()
        if not path.is_relative_to(self.static.resolve()) or not path.is_file():
            raise FileNotFoundError(f"no static file {name!r} in {self.static}")
        modified = path.stat().st_mtime
        known = self._versions.get(name)
        if known is None or known[0] != modified:
            known = (modified, hashlib.sha256(path.read_bytes()).hexdigest()[:10])
            self._versions[name] = known
        return f"{STATIC_PATH}/{name}?v={known[1]}"
