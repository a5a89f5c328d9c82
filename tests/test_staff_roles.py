"""Staff roles (issue 12), played as people: an admin invites someone to be staff of
one training base with a one-time code; she redeems it and sees her base's courses
only; a used, expired or wrong code is refused; another base's course, forged, is
refused; the admin revokes her and her next tap is refused; every step is audited."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from storage.models import AuditEntry, StaffInvite, User
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import ADMIN, load_user

CODE = re.compile(r"/staff ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


async def invite_for(app, base_name: str) -> str:
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Staff of the bases")
    assert "no one yet" in admin.text
    await admin.tap(f"Invite for {base_name}")
    found = CODE.search(admin.text)
    assert found, admin.text
    return found.group(1)


async def person(app, key: str = "tg:301") -> Chat:
    me = Chat(app.dispatcher, key, "en")
    await me.onboard()
    return me


async def test_an_invited_person_becomes_staff_of_her_base_only(app):
    ids = await load(
        app,
        [
            course("mm1", "茂名月嫂班", "月嫂/母婴护理", starts=-2, base="mm"),
            course("xy1", "信宜育婴班", "育婴员", starts=-2, base="xy"),
        ],
    )
    code = await invite_for(app, "茂名好心家政培训学校")
    me = await person(app)
    await me.say(f"/staff {code.lower()}")  # typed loosely
    assert "You are now staff of your training base" in me.text
    assert "Staff menu: 茂名好心家政培训学校" in me.text
    await me.tap("Attendance and completion")
    assert "茂名月嫂班" in " ".join(me.labels) and "信宜育婴班" not in " ".join(me.labels)
    # another base's course, forged onto her screen's nonce: refused
    nonce = me.button("茂名月嫂班").data.split("|")[0]
    await me.press(f"{nonce}|course:{ids['xy1']}")
    assert "belongs to an earlier message" in me.text or "recognise" in me.text
    # another base's course reached some other way (her screen from before a move to
    # this base): the screen itself refuses it
    async with app.db.sessions() as session, session.begin():
        her = await session.scalar(select(User).where(User.key == "tg:301"))
        her.state, her.form = "ATTEND_COURSE", {"att_course": ids["xy1"]}
    await me.say("/help")
    assert "belongs to another training base" in me.text
    # her base's vetting queue is hers (tests/test_staff_vetting.py); the roles are
    # admins' only
    await me.say("/start")
    assert "Vet workers" in " ".join(me.labels)
    assert "Staff of the bases" not in " ".join(me.labels)
    # used once
    other = await person(app, "tg:302")
    await other.say(f"/staff {code}")
    assert "used already" in other.text
    assert (await load_user(app, "tg:302")).staff_base_id is None
    async with app.db.sessions() as session:
        actions = [a.action for a in await session.scalars(select(AuditEntry))]
    assert "staff:invite" in actions and "staff:join" in actions


async def test_expired_wrong_and_unconsented_codes_are_refused(app):
    await load(app, [course("mm1", "茂名月嫂班", "月嫂/母婴护理", base="mm")])
    code = await invite_for(app, "茂名好心家政培训学校")
    stranger = Chat(app.dispatcher, "tg:303", "en")
    await stranger.say("/start")
    await stranger.say(f"/staff {code}")  # before the privacy notice: nothing kept
    assert "privacy notice first" in stranger.text
    me = await person(app)
    await me.say("/staff 1234")
    assert "as you were given it" in me.text
    await me.say("/staff ABCD-EFGH-JKMN")
    assert "not right" in me.text
    async with app.db.sessions() as session, session.begin():
        await session.execute(update(StaffInvite).values(expires_at=dt.datetime(2000, 1, 1)))
    await me.say(f"/staff {code}")
    assert "expired" in me.text
    assert (await load_user(app, "tg:301")).staff_base_id is None


async def test_a_revoked_staff_member_is_refused_on_her_next_tap(app):
    await load(app, [course("mm1", "茂名月嫂班", "月嫂/母婴护理", starts=-2, base="mm")])
    code = await invite_for(app, "茂名好心家政培训学校")
    me = await person(app)
    await me.say(f"/staff {code}")
    await me.tap("Attendance and completion")
    admin = Chat(app.dispatcher, ADMIN, "en")
    await admin.say("/start")
    await admin.tap("Staff of the bases")
    await admin.tap("Revoke tg:301")
    await admin.tap("Yes, revoke")
    assert "Revoked" in admin.text
    await me.tap("茂名月嫂班")
    assert "for programme staff only" in me.text
    assert (await load_user(app, "tg:301")).staff_base_id is None
    async with app.db.sessions() as session:
        revoked = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "staff:revoke")
        )
    assert revoked.actor == ADMIN and revoked.before == {"base": 1}


async def test_a_job_seeker_cannot_reach_the_roles_by_a_forged_button(app):
    me = await person(app)
    await me.press("aaaaa|go:roles")
    assert "Staff of the bases" not in me.text
    async with app.db.sessions() as session:
        assert list(await session.scalars(select(StaffInvite))) == []
        assert await session.scalar(select(User.staff_base_id).where(User.key == "tg:301")) is None


async def test_menu_takes_a_new_staff_member_to_her_staff_menu(app):
    """She became staff by invite before choosing what she is here for: /menu is her
    staff menu, not the start of onboarding."""
    await load(app, [course("mm1", "茂名月嫂班", "月嫂/母婴护理", starts=-2, base="mm")])
    code = await invite_for(app, "茂名好心家政培训学校")
    me = Chat(app.dispatcher, "tg:304", "en")
    await me.say("/start")
    await me.say("/privacy")
    await me.tap("I agree")
    await me.say(f"/staff {code}")
    await me.tap("Vet workers")
    await me.say("/menu")
    assert "Staff menu: 茂名好心家政培训学校" in me.text
