"""Steps browser tests share: paying with the gateway's (localstripe's) card fields, citing
the earlier diagnosis, and watching the others' video arrive on the call page (in all, or
from each participant of a call with several), and reading what the call page captures and
sends."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page

TEST_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"
THREE_D_SECURE_CARD = "4000002500003155"


async def fill_card(page: Page, number: str = TEST_CARD) -> None:
    """Type a test card into the gateway's fields (labelled by the page, in Chinese)."""
    card = page.locator("[data-card-element]")
    await card.get_by_label("卡号").fill(number)
    await card.get_by_label("有效期月份").fill("12")
    await card.get_by_label("有效期年份（两位）").fill("30")
    await card.get_by_label("安全码").fill("123")
    await card.get_by_label("邮编").fill("42424")


async def cite_diagnosis(page: Page) -> None:
    await page.get_by_label("就诊机构").fill("临安区人民医院")
    await page.get_by_label("诊断日期").fill("2026-01-10")
    await page.get_by_label("诊断结果").fill("原发性高血压 2 级")


async def received_video_bytes(page: Page) -> int:
    """Bytes of the other side's video this call page has received (``getStats``)."""
    return int(await page.evaluate("document.querySelector('[data-call]').receivedVideoBytes()"))


async def video_flows(page: Page, timeout: float = 20.0) -> None:
    """The other side's video keeps arriving: bytes received grow by several kilobytes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    first = await received_video_bytes(page)
    while loop.time() < deadline:
        await asyncio.sleep(0.5)
        now = await received_video_bytes(page)
        if first > 0 and now > first + 5000:
            return
        first = first or now
    raise AssertionError(f"no video arrived: {await received_video_bytes(page)} bytes")


async def received_video_bytes_from(page: Page) -> dict[str, int]:
    """Bytes of video received so far from each participant (by participant id)."""
    found = await page.evaluate("document.querySelector('[data-call]').receivedVideoBytesFrom()")
    return {str(peer): int(count) for peer, count in found.items()}


async def video_flows_from(page: Page, *participant_ids: str, timeout: float = 20.0) -> None:
    """Each of these participants' video keeps arriving on ``page``: the bytes received from
    each grow by several kilobytes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    first = await received_video_bytes_from(page)
    waiting = set(participant_ids)
    while waiting and loop.time() < deadline:
        await asyncio.sleep(0.5)
        now = await received_video_bytes_from(page)
        for peer in list(waiting):
            if first.get(peer, 0) > 0 and now.get(peer, 0) > first[peer] + 5000:
                waiting.discard(peer)
            elif not first.get(peer):
                first[peer] = now.get(peer, 0)
    if waiting:
        raise AssertionError(
            f"no video arrived from {sorted(waiting)}: {await received_video_bytes_from(page)}"
        )


async def call_media(page: Page) -> dict[str, Any]:
    """What the call page captures (``local``: each track's ``kind``, ``enabled`` and
    settings) and sends (``senders``: per remote ``peer``, each track's ``kind``,
    ``enabled``, ``deviceId``, ``maxBitrate``, ``maxFramerate``), and its media profile."""
    media: dict[str, Any] = await page.evaluate("document.querySelector('[data-call]').media()")
    return media
