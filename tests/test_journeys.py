"""One table of journeys, played on every platform: the terminal chat, Telegram through
aiogram and through python-telegram-bot, and WeChat. A flow is written once."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.app import create_app
from bot.console import render, to_event
from tests.catalogue import course, load
from tests.conftest import load_user, make_settings
from tests.telegram_player import TelegramPlayer, running_bot
from tests.wechat_player import WeChatPlayer, running_wechat

_ids = itertools.count(1)


class ConsolePlayer:
    """A person at the terminal: types lines, reads the rendered text, types numbers."""

    def __init__(self, dispatcher, user: str) -> None:
        self.dispatcher, self.user = dispatcher, user
        self.text, self.screens = "", []

    async def say(self, line: str) -> str:
        handled = await self.dispatcher.handle(to_event(line + "\n", self.user, None))
        self.text = "\n\n".join(render(r) for r in handled.replies)
        self.screens.append(self.text)
        return self.text

    def number_of(self, label: str, screen: str | None = None) -> str:
        for number, text in re.findall(r"\[(\d+)\] ([^\[\n]+)", screen or self.text):
            if label in text:
                return number
        raise AssertionError(f"no button {label!r} in {screen or self.text!r}")

    async def tap(self, label: str) -> str:
        return await self.say(self.number_of(label))

    async def tap_old(self, label: str) -> str:
        for screen in reversed(self.screens[:-1]):
            if f"] {label}" in screen or label in screen:
                try:
                    return await self.say(self.number_of(label, screen))
                except AssertionError:
                    continue
        raise AssertionError(label)


@asynccontextmanager
async def platform(name: str, db_path) -> AsyncIterator:
    """Yields (make_player(n), key_of(n), app) for the platform."""
    if name == "console":
        app = await create_app(make_settings(db_path))
        try:
            yield (
                lambda n: ConsolePlayer(app.dispatcher, f"console:p{n}"),
                lambda n: f"console:p{n}",
                app,
            )
        finally:
            await app.close()
    elif name == "wechat":
        async with running_wechat(db_path, mode="safe") as (url, app, _api):
            yield (lambda n: WeChatPlayer(url, f"oP{n}", "aes"), lambda n: f"wx:oP{n}", app)
    else:
        async with running_bot(db_path, name) as (fake, app, _):
            yield (
                (lambda n: TelegramPlayer(fake, 7000 + n, lang="")),
                (lambda n: f"tg:{7000 + n}"),
                app,
            )


LANG = {
    "English": dict(
        agree="I agree",
        menu="Main menu: training and work",
        ask="Do you agree?",
    ),
    "简体中文": dict(
        agree="我同意",
        menu="主菜单：培训和工作",
        ask="你同意吗？",
    ),
    "廣東話": dict(
        agree="我同意",
        menu="主選單：培訓同搵工",
        ask="你同唔同意？",
    ),
}


async def onboarding(me, language: str) -> None:
    """The greeting's language button leads straight to the menu in that language;
    she agrees to the privacy notice from /privacy, and is back at her menu."""
    t = LANG[language]
    await me.say("/start")
    await me.tap(language)
    assert t["menu"] in me.text and t["ask"] not in me.text  # nothing asked in between
    await me.say("/privacy")
    await me.tap(t["agree"])
    assert t["menu"] in me.text


async def cancel_mid_flow(me, _language: str) -> None:
    await onboarding(me, "English")
    await me.say("/delete_me")
    assert "Delete all your data?" in me.text
    await me.say("/cancel")
    assert "Cancelled" in me.text and "Main menu: training and work" in me.text


async def stale_button(me, _language: str) -> None:
    await me.say("/start")
    await me.tap("English")
    await me.say("/start course_1")
    await me.tap("Sign up")
    assert "Do you agree?" in me.text
    await me.tap_old("English")  # a button from the greeting, three messages up
    assert (
        "belongs to an earlier message" in me.text  # Telegram: the old button's own data
        or "tap one of the buttons" in me.text  # numbered lists: that number is gone
    ), me.text
    assert "Do you agree?" in me.text  # and the current question again


async def sign_up_for_a_course(me, _language: str) -> None:
    """From the poster's deep link to a confirmed seat: typed answers, tapped choices."""
    await me.say("/start course_1")  # first contact: straight to the card
    await me.say("/language")
    await me.tap("English")
    assert "好心月嫂初级班" in me.text  # the card again, in English
    await me.tap("Sign up")
    await me.tap("I agree")  # the privacy notice, at her first personal question
    await me.say("李秀梅")
    await me.say("13800138000")  # typed, on every platform
    await me.tap("Maonan")  # her county by its English name
    await me.say("38")
    assert "+8613800138000" in me.text
    await me.tap("Confirm sign-up")
    assert "Your seat is confirmed" in me.text


JOURNEYS = [
    ("onboarding in English", onboarding, "English", "SEEKER_MENU"),
    ("onboarding in Simplified Chinese", onboarding, "简体中文", "SEEKER_MENU"),
    ("onboarding in Cantonese", onboarding, "廣東話", "SEEKER_MENU"),
    ("/cancel mid-flow", cancel_mid_flow, "English", "SEEKER_MENU"),
    ("a stale button", stale_button, "English", "PRIVACY"),
    ("signing up for a course", sign_up_for_a_course, "English", "MY_SIGNUPS"),
]


@pytest.mark.parametrize("name", ["console", "aiogram", "ptb", "wechat"])
async def test_every_journey_on_every_platform(db_path, name):
    async with platform(name, db_path) as (player, key, app):
        await load(app, [course("ys1", "好心月嫂初级班", "月嫂/母婴护理")])
        for n, (title, journey, language, final_state) in enumerate(JOURNEYS):
            try:
                await journey(player(n), language)
                assert (await load_user(app, key(n))).state == final_state
            except AssertionError as failure:
                raise AssertionError(f"{name}: {title}: {failure}") from failure
