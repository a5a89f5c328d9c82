"""A training base's vetting queue (issue 12), played as people: base staff see and
decide only the women of their base (signed up for or trained on one of its courses);
a look-up of another base's worker finds nothing; a profile of another base put on
her screen is refused; the programme office still sees everyone."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, Course, Signup, User
from tests.catalogue import course, load
from tests.chat import Chat
from tests.conftest import load_user
from tests.test_staff_roles import invite_for, person
from tests.test_vetting import ID_NUMBER, all_checks, profile_now, staff, worker


async def signed_up(app, key: str, code: str) -> None:
    """Her sign-up for the course `code` (as the sign-up flow would leave it)."""
    async with app.db.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.key == key))
        ident = await session.scalar(select(Course.id).where(Course.code == code))
        row = Signup(course_id=ident, user_id=user.id, status="confirmed", name="李", phone="")
        session.add(row)


async def base_staff(app, key: str = "tg:301") -> Chat:
    code = await invite_for(app, "茂名好心家政培训学校")
    me = await person(app, key)
    await me.say(f"/staff {code}")
    assert "Staff menu" in me.text
    return me


async def test_base_staff_vet_only_the_women_of_their_base(app):
    await load(
        app,
        [
            course("mm1", "茂名月嫂班", "月嫂/母婴护理", starts=-2, base="mm"),
            course("xy1", "信宜育婴班", "育婴员", starts=-2, base="xy"),
        ],
    )
    ours = await worker(app, "tg:5")
    theirs = await worker(app, "tg:6", id_number="440902199001011234")
    await signed_up(app, "tg:5", "mm1")
    await signed_up(app, "tg:6", "xy1")
    me = await base_staff(app)
    await me.tap("Vet workers")
    assert f"#{ours}" in me.text and "1 profile waits for vetting" in me.text
    await me.tap("Next profile")
    assert "only profile in the queue" in me.text and f"#{theirs}" not in me.text
    # the other base's worker by her profile number: not found, nothing shown
    await me.tap("Look up a worker")
    await me.say(str(theirs))
    assert "can't find a worker" in me.text
    # her own base's worker: decided, and audited as hers
    await me.tap("Back")
    await all_checks(app, ours)
    await me.say("/menu")
    await me.tap("Vet workers")
    await me.tap("Approve")
    assert "Done: profile" in me.text
    assert (await profile_now(app, ours)).status == "verified"
    assert (await profile_now(app, theirs)).status == "submitted"
    async with app.db.sessions() as session:
        decided = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.subject == f"worker:{ours}", AuditEntry.actor == "tg:301"
            )
        )
    assert decided is not None
    # the programme office sees every base's: the other one waits still
    admin = await staff(app)
    assert "1 profile waits for vetting" in admin.text and f"#{theirs}" in admin.text


async def test_another_bases_profile_put_on_her_screen_is_refused(app):
    await load(
        app,
        [
            course("mm1", "茂名月嫂班", "月嫂/母婴护理", starts=-2, base="mm"),
            course("xy1", "信宜育婴班", "育婴员", starts=-2, base="xy"),
        ],
    )
    ours = await worker(app, "tg:5")
    theirs = await worker(app, "tg:6", id_number="440902199001011234")
    await signed_up(app, "tg:5", "mm1")
    await signed_up(app, "tg:6", "xy1")
    me = await base_staff(app)
    await me.tap("Vet workers")
    approve = me.button("Approve")
    # her screen's memory pointed at the other base's profile (a screen from before she
    # moved base, or a forged form): every action asks again
    async with app.db.sessions() as session, session.begin():
        her = await session.scalar(select(User).where(User.key == "tg:301"))
        her.form = {**her.form, "vet": {"id": theirs, "version": 1, "status": "submitted"}}
    await me.press(approve.data)
    assert "not one of your training base's" in me.text
    assert (await profile_now(app, theirs)).status == "submitted"
    assert (await profile_now(app, ours)).status == "submitted"
    async with app.db.sessions() as session:
        acted = await session.scalars(
            select(AuditEntry.subject).where(AuditEntry.actor == "tg:301")
        )
        assert not [s for s in acted if s.startswith("worker:")]


async def test_a_worker_of_no_base_is_the_programme_offices_to_vet(app):
    await load(app, [course("mm1", "茂名月嫂班", "月嫂/母婴护理", starts=-2, base="mm")])
    await worker(app, "tg:5", id_number=ID_NUMBER)
    me = await base_staff(app)
    await me.tap("Vet workers")
    assert "No profile waits for vetting" in me.text
    assert (await load_user(app, "tg:301")).staff_base_id is not None
