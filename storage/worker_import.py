"""Bulk import of worker profiles (`haoxin import workers FILE`; `storage.bulk_import`
runs it, `storage.import_checks` reads the cells).

**Workers** are imported for staff to vet, never as verified: each row is a person of
her own (`import:<code>`), who gave the programme her consent (staff import only such
people), with the answers sign-up keeps (name, phone, county, age) and a profile sent to
the vetting queue (`submitted`). Her ID number is kept as its last four characters and a
keyed hash (`storage.workers.id_digest`), never whole, and never quoted in a message; a
blank ID number keeps the one on file. A number already on another profile refuses the
row (the same person twice). An introduction holding a phone number or an ID number is
refused (households read it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import vocab
from storage.files import FileStore
from storage.import_checks import (
    WORKERS,
    ImportResult,
    Problem,
    Progress,
    actor_of,
    audit_import,
    check_rows,
    refuse,
    tick,
)
from storage.importer import (
    WorkerProfileRow,
)
from storage.models import User, WorkerProfile, utcnow
from storage.repositories import ProfileRepo
from storage.tabular import Table
from storage.workers import (
    WorkerRepo,
    holds_contact,
    holds_id_number,
    id_digest,
)

# -- workers ----------------------------------------------------------------------------

#: the fields of a worker's profile the import sets (`WorkerRepo.edit`), by column
_PROFILE_FIELDS = {
    "name": "name",
    "kinds": "kinds",
    "years": "years",
    "places": "places",
    "languages": "languages",
    "available_from": "available_from",
    "available_until": "available_until",
    "intro": "intro",
}
_PAY = {"pay_live_in": "live_in", "pay_day": "day", "pay_hourly": "hourly"}


def _worker_shape(values: dict[str, Any]) -> dict[str, Any]:
    """A row's cells as `WorkerProfileRow` reads them: sent to staff (`submitted`), pay by
    mode, add-on skills out of the kinds of work, certificates as kinds."""
    shaped = {k: v for k, v in values.items() if k not in _PAY and k != "certificates"}
    shaped["state"] = "submitted"
    pay = {_PAY[k]: v for k, v in values.items() if k in _PAY}
    if pay:
        shaped["pay"] = pay
    kinds = values.get("kinds") or []
    shaped["skills"] = [k for k in kinds if k in vocab.ADD_ON_SKILLS]
    shaped.pop("kinds", None)  # none but add-on skills: missing, as an empty cell is
    if any(k not in vocab.ADD_ON_SKILLS for k in kinds):
        shaped["kinds"] = [k for k in kinds if k not in vocab.ADD_ON_SKILLS]
    if "certificates" in values:
        shaped["certificates"] = [{"kind": kind} for kind in values["certificates"]]
    return shaped


def import_key(code: str) -> str:
    """The platform key of an imported worker: `import:<code>`."""
    return f"import:{code}"


async def import_workers(
    session: AsyncSession,
    table: Table,
    *,
    consent_version: int,
    role: str,
    store: FileStore | None = None,
    staff: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update worker profiles from `table` (columns `WORKERS`), all or nothing,
    for staff to vet: a new person `import:<code>` (role `role`, consent
    `consent_version`: staff import only people who gave the programme their consent),
    her sign-up answers, a profile sent to the vetting queue. Re-importing updates her
    (`WorkerRepo.edit`: a changed name or ID sends a recorded identity check back to
    staff). `store`: the file store keeping the key of ID-number hashes. Raises
    `ValidationFailed` (nothing written); returns what was done."""
    checked = check_rows(table, WORKERS, WorkerProfileRow, _worker_shape)
    workers = WorkerRepo(session, store)
    key = await workers.id_key() if any(r.id_number for _n, r in checked.rows) else ""
    hashes: dict[str, int] = {}  # an ID number's hash: the first row with it
    for number, row in checked.rows:
        if row.intro and (holds_contact(row.intro) or holds_id_number(row.intro)):
            checked.problems.append(
                Problem(
                    number,
                    "intro",
                    "intro_contact",
                    "the introduction holds a phone number, an ID number or another way "
                    "to reach her; households read it, so take it out",
                )
            )
        if not row.id_number:
            continue
        digest = id_digest(row.id_number, key)
        if digest in hashes:
            checked.problems.append(
                Problem(
                    number,
                    "id_number",
                    "duplicate_id_number",
                    f"the same ID number as row {hashes[digest]}; one person, one row",
                    {"other": hashes[digest]},
                )
            )
        hashes.setdefault(digest, number)
    users: dict[str, User] = {}
    keys = sorted(import_key(r.code) for _n, r in checked.rows)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        users.update(
            {u.key: u for u in await session.scalars(select(User).where(User.key.in_(chunk)))}
        )
    if hashes:
        codes = {number: row.code for number, row in checked.rows}
        owners = await session.execute(
            select(WorkerProfile.id_hash, WorkerProfile.id, WorkerProfile.user_id).where(
                WorkerProfile.id_hash.in_(list(hashes))
            )
        )
        for digest, profile_id, user_id in owners:
            number = hashes[digest]
            mine = users.get(import_key(codes[number]))
            if mine is None or mine.id != user_id:
                checked.problems.append(
                    Problem(
                        number,
                        "id_number",
                        "id_number_taken",
                        f"another profile (#{profile_id}) has this ID number: the same "
                        "person is there already",
                        {"profile": profile_id},
                    )
                )
    refuse(checked, table.source)

    result = ImportResult("workers", table.source, rows=len(checked.rows))
    actor = actor_of(table, staff)
    profiles = ProfileRepo(session)
    now = utcnow()
    for done, (_number, row) in enumerate(checked.rows, start=1):
        user = users.get(import_key(row.code))
        new = user is None
        if user is None:
            user = User(
                key=import_key(row.code),
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
        answers = {"name": row.name, "phone": "+86" + row.phone, "county": row.county}
        answers["age"] = row.age
        kept = None if new else await profiles.of(user)
        moved = kept is None or any(getattr(kept, k) != v for k, v in answers.items())
        if moved:
            await profiles.save(user, **answers)
        profile = await workers.start(user)
        values = _profile_values(row, checked.columns)
        if row.id_number:
            values["id_last4"] = row.id_number[-4:]
            values["id_hash"] = id_digest(row.id_number, key)
        changed = {n: v for n, v in values.items() if getattr(profile, n) != v}
        if changed:
            await workers.edit(profile, **changed)
        have = {c.kind for c in profile.certificates}
        added = False
        for cert in row.certificates:
            if cert.kind not in have:
                await workers.add_certificate(profile, cert.kind, "", "", None)
                have.add(cert.kind)
                added = True
        if profile.status == "draft" or (profile.status == "changes" and (changed or added)):
            await workers.submit(profile)
        if new or changed or added or moved:
            workers.audit(
                f"worker:{profile.id}",
                actor,
                "import",
                {},
                {
                    "fields": "all" if new else sorted({*changed, *(answers if moved else ())}),
                    "file": Path(table.source).name[:80],
                },
            )
        if new:
            result.created += 1
        elif changed or added or moved:
            result.updated += 1
        else:
            result.unchanged += 1
        tick(progress, done, len(checked.rows))
    await session.flush()
    audit_import(session, "workers", actor, result)
    return result


def _profile_values(row: WorkerProfileRow, columns: set[str]) -> dict[str, Any]:
    """The profile's fields the file's columns give (`WorkerRepo.edit`)."""
    values: dict[str, Any] = {"name": row.name}
    for column, name in _PROFILE_FIELDS.items():
        if column in columns:
            values[name] = getattr(row, column)
    if "kinds" in columns:
        values["skills"] = row.skills
    if columns & set(_PAY):
        values["pay"] = {mode: row.pay[mode] for mode in row.pay}
    return values
