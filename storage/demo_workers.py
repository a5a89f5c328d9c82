"""The demo's workers: fictional women with real profiles, in every state of vetting.

`haoxin chat --demo` loads them from `storage/demo.yaml` (section `worker_profiles`,
checked by `storage.importer.WorkerProfileRow`), never `haoxin import`. Each is a person
of her own (`demo:<code>`), who agreed to the privacy notice, with what she gave at
sign-up (`Profile`) and a fictional phone number. Her profile is built and vetted through
`WorkerRepo` like anyone's, by `demo:staff`, so the data obeys the same rules and the
audit log tells her story:

    draft      filled in, never sent
    submitted  sent on `submitted_on`: the vetting queue, oldest first
    changes    identity checked, staff asked for changes (`reason`), she answered
    rejected   identity passed, criminal-record check failed, rejected (`reason`)
    shown      identity, health, criminal record and each certificate passed on
               `checked_on` (health: on `health_passed_on`), approved, shared
    paused     shown, then paused by her
    expiring   shown, health check running out within 30 days
    expired    shown once, health check run out: hidden until a new one
    suspended  shown, then suspended by staff (`reason`)

Her `trainings` are confirmed sign-ups on those courses, marked attended and completed
by `demo:staff` (`marked: false`: signed up only, for staff to mark, e.g. with
`haoxin import trainings storage/demo_trainings.csv`).

Loading again adds nobody twice: a worker whose `demo:<code>` person exists is skipped.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from storage.importer import VERIFIED_DEMO_STATES, DataFileError, WorkerProfileRow, _field
from storage.models import Course, User, WorkerProfile, utcnow
from storage.repositories import Repos
from storage.workers import REQUIRED_CHECKS, id_digest

log = logging.getLogger(__name__)

#: who vetted the demo workers (the audit log's actor)
DEMO_STAFF = "demo:staff"
SECTION = "worker_profiles"


def demo_key(code: str) -> str:
    """The platform key of a demo worker: `demo:worker-1`."""
    return f"demo:{code}"


async def load_demo_workers(
    repos: Repos,
    rows: list[WorkerProfileRow],
    *,
    consent_version: int,
    role: str,
    source: str = "",
) -> int:
    """Create the demo workers not there yet; returns how many were created. Their
    courses must be in the database (`DataFileError` names the row otherwise)."""
    session = repos.session
    codes = {t.course for row in rows for t in row.trainings}
    courses = {
        c.code: c for c in await session.scalars(select(Course).where(Course.code.in_(codes)))
    }
    made = 0
    for index, row in enumerate(rows):
        for n, training in enumerate(row.trainings):
            if training.course not in courses:
                raise DataFileError(
                    f"unknown course {training.course!r}",
                    _field(SECTION, index, row.code, "trainings", n, "course"),
                    source,
                )
        key = demo_key(row.code)
        if await session.scalar(select(User.id).where(User.key == key)) is not None:
            continue
        await _create(repos, row, key, courses, consent_version=consent_version, role=role)
        made += 1
    log.info("demo workers created: %d", made)
    return made


async def _create(
    repos: Repos,
    row: WorkerProfileRow,
    key: str,
    courses: dict[str, Course],
    *,
    consent_version: int,
    role: str,
) -> None:
    session, workers = repos.session, repos.workers
    now = utcnow()
    user = User(
        key=key,
        lang=row.lang,
        role=role,
        state="",
        form={},
        screen_nonce=0,
        screen_buttons=[],
        consented_at=now,
        consent_version=consent_version,
    )
    session.add(user)
    await session.flush()
    phone = "+86" + row.phone
    await repos.profiles.save(user, name=row.name, phone=phone, county=row.county, age=row.age)
    for training in row.trainings:
        course = courses[training.course]
        await repos.signups.book(
            course.id, user.id, name=row.name, phone=phone, county=row.county, age=row.age
        )
        if training.marked:
            await workers.mark_training(
                user.id,
                course.id,
                DEMO_STAFF,
                attended=True,
                completed_on=training.completed_on,
            )

    profile = await workers.start(user)
    values: dict[str, object] = {
        "kinds": row.kinds,
        "skills": row.skills,
        "years": row.years,
        "jobs": [job.model_dump() for job in row.jobs],
        "places": row.places,
        "pay": row.pay,
        "languages": row.languages,
        "available_from": row.available_from,
        "available_until": row.available_until,
        "intro": row.intro,
        "health_passed_on": row.health_passed_on,
    }
    if row.id_number:
        values["id_last4"] = row.id_number[-4:]
        values["id_hash"] = id_digest(row.id_number, await workers.id_key())
    await workers.edit(profile, **values)
    if row.health_passed_on:
        profile.health_consent_at = now
    for cert in row.certificates:
        await workers.add_certificate(profile, cert.kind, cert.number, cert.issuer, cert.issued_on)
    if row.state == "draft":
        return

    await workers.submit(profile)
    sent = dt.datetime.combine(row.submitted_on or now.date(), dt.time(1, 30))
    profile.submitted_at = profile.queued_at = sent  # as long ago as the file says
    await session.flush()
    if row.state == "submitted":
        return

    checked_on = row.checked_on or now.date()
    if row.state in ("changes", "rejected"):
        profile = await _check(repos, profile, "identity", "passed", checked_on)
        if row.state == "rejected":
            profile = await _check(repos, profile, "criminal", "failed", checked_on)
        decision = "changes" if row.state == "changes" else "reject"
        profile = await workers.decide(
            profile.id, profile.version, DEMO_STAFF, decision, row.reason, today=checked_on
        )
        if row.answer:
            await workers.answer(profile, row.answer)
        await session.flush()
        return

    assert row.state in VERIFIED_DEMO_STATES and row.health_passed_on
    for kind in REQUIRED_CHECKS:
        on = row.health_passed_on if kind == "health" else checked_on
        profile = await _check(repos, profile, kind, "passed", on)
    for cert in list(profile.certificates):
        profile = await _check(repos, profile, "certificate", "passed", checked_on, str(cert.id))
    profile.code = row.credential
    profile = await workers.decide(
        profile.id, profile.version, DEMO_STAFF, "approve", today=checked_on
    )
    await workers.set_shared(profile, True)
    if row.state == "paused":
        await workers.set_paused(profile, True)
    if row.state == "suspended":
        await session.flush()
        profile = await workers.decide(
            profile.id, profile.version, DEMO_STAFF, "suspend", row.reason, today=checked_on
        )
    await session.flush()


async def _check(
    repos: Repos,
    profile: WorkerProfile,
    kind: str,
    result: str,
    on: dt.date,
    subject: str = "",
) -> WorkerProfile:
    await repos.session.flush()
    return await repos.workers.record_check(
        profile.id, profile.version, DEMO_STAFF, kind, subject, result, on
    )
