"""Staff's poster links: a real Telegram link and QR code, or how to get one."""

from __future__ import annotations

import pytest

from bot.app import create_app
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, make_settings


async def _staff_at_a_course(app, lang: str) -> tuple[Chat, int]:
    ids = await load(app, [course("c1", "月嫂班", "月嫂/母婴护理")])
    admin = Chat(app.dispatcher, ADMIN, lang)
    await admin.say("/start")  # staff: their menu at once
    assert "Programme staff menu" in admin.text
    await admin.say(f"/start course_{ids['c1']}")
    await admin.tap("Link and QR code")
    return admin, ids["c1"]


async def test_without_the_bot_username_staff_are_told_how_to_set_it_not_given_a_command(app):
    admin, ident = await _staff_at_a_course(app, "en")
    assert "HAOXIN_TELEGRAM_BOT" in admin.text
    assert f"https://t.me/<username>?start=course_{ident}" in admin.text
    assert f"scene “course_{ident}”" in admin.text  # what WeChat staff need
    assert not [r for r in admin.replies if r.qr]  # no QR code of a bare "/start course_1"
    assert admin.button("Sign up")  # still on the course card


@pytest.fixture
async def named_app(db_path):
    app = await create_app(make_settings(db_path, telegram_bot="haoxin_bot"))
    yield app
    await app.close()


async def test_with_the_bot_username_staff_get_the_link_and_its_qr_code(named_app):
    admin, ident = await _staff_at_a_course(named_app, "en")
    link = f"https://t.me/haoxin_bot?start=course_{ident}"
    assert f"Link for posters: {link}" in admin.text
    (qr,) = [r for r in admin.replies if r.qr]
    assert qr.qr == link and qr.qr_png().startswith(b"\x89PNG")
