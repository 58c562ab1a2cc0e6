"""What every upload shares: the type is what the bytes are, and a name may not claim another."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmarket import files
from medmarket.errors import NotFound, UnsupportedMedia
from medmarket.files import NAME_EXTENSIONS, require_accepted, require_name_agrees, sniff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe1\x00\x10Exif" + b"\x00" * 16
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.mark.parametrize(
    ("content", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (PDF, "application/pdf"), (b"GIF89a", None)],
)
def test_the_content_decides(content: bytes, media_type: str | None) -> None:
    assert sniff(content) == media_type


def test_other_content_is_refused() -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        require_accepted(b"<svg onload=alert(1)>")
    assert refused.value.errors[0].code == "unsupported-type"


stems = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="."),
    min_size=1,
    max_size=20,
)
extensions = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=1,
    max_size=5,
)


@given(stems, extensions, st.sampled_from(sorted(NAME_EXTENSIONS)))
def test_a_name_may_not_claim_another_type(stem: str, extension: str, media_type: str) -> None:
    name = f"{stem}.{extension}"
    if extension.lower() in NAME_EXTENSIONS[media_type]:
        require_name_agrees(name, media_type)
    else:
        with pytest.raises(UnsupportedMedia) as refused:
            require_name_agrees(name, media_type)
        assert refused.value.errors[0].code == "extension-mismatch"


@given(stems, st.sampled_from(sorted(NAME_EXTENSIONS)))
def test_a_name_without_an_extension_claims_nothing(stem: str, media_type: str) -> None:
    require_name_agrees(stem, media_type)
    require_name_agrees("." + stem, media_type)  # a dot file names no type either


async def test_a_kept_file_gone_from_disk_is_a_404_and_a_logged_fault(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kept = tmp_path / "kept"
    await files.store(kept, b"%PDF-1.4 report")
    assert await files.load_kept(kept, missing="ask again") == b"%PDF-1.4 report"
    with pytest.raises(NotFound, match="ask again"):
        await files.load_kept(tmp_path / "gone", missing="ask again")
    assert any("missing" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
