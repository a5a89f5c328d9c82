"""Workers: profiles, certificates, vetting checks, staff decisions, the audit log,
credential codes and the courses she completed.

The rules that every screen and, later, matching rely on live here:

- **Who households see** (`VISIBLE`): verified, not paused, shared (her consent to
  show the profile, PIPL art. 23) and a health check valid today. Nothing else is ever
  shown to a household.
- **Vetting states**: `draft` → `submitted` → `verified`, `changes` or `rejected`; a
  verified worker can be `suspended` (and reinstated). `queued_at` says since when a
  profile waits for staff: submitted, or a verified field edited (that check goes back
  to `recheck`, the rest stays verified and shown).
- **Two staff at once**: every change bumps `version`; a staff decision names the
  version it was shown and is refused (`Stale`) when the profile moved on, in one
  conditional UPDATE, so two decisions on two instances end with one.
- **Privacy**: an ID number is kept as its last four characters and a keyed hash
  (`id_digest`), keyed by a secret kept outside the database (`FileStore.id_hash_key`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.files import FileStore
from storage.models import (
    AuditEntry,
    Certificate,
    Course,
    LookupFailure,
    Profile,
    Signup,
    Training,
    User,
    VettingCheck,
    WorkerProfile,
    WorkerTag,
    utcnow,
)
from storage.vocab import LANGUAGES

#: a health examination is valid for a year (../shared/domain.md: yearly)
HEALTH_VALID_DAYS = 365
#: she is reminded this many days before her health check runs out (issue 10)
HEALTH_REMIND_DAYS = 30
#: wrong credential codes one person may look up within `LOOKUP_WINDOW`
LOOKUP_LIMIT = 5
LOOKUP_WINDOW = dt.timedelta(hours=1)
#: credential codes: 12 characters of Crockford's base32 (no I, L, O, U), 60 bits, shown
#: as three groups of four (`7K2M-9QPD-XW3A`): at `LOOKUP_LIMIT` guesses an hour, a
#: blind guess succeeds about once in 10^14 years per verified worker
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12

STATES = ("draft", "submitted", "verified", "changes", "rejected", "suspended")
#: what each staff decision does: the states it may be taken from, and the state after
DECISIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": (("submitted", "changes", "verified"), "verified"),
    "changes": (("submitted", "verified", "changes"), "changes"),
    "reject": (("submitted", "changes"), "rejected"),
    "suspend": (("verified",), "suspended"),
    "reinstate": (("suspended",), "verified"),
}
#: checks a profile needs passed (and, for health, valid) before it can be approved
REQUIRED_CHECKS = ("identity", "health", "criminal")

#: the fields she fills in, in the order a profile shows them
FIELDS = (
    "name",
    "kinds",
    "skills",
    "years",
    "jobs",
    "places",
    "pay",
    "languages",
    "available_from",
    "available_until",
    "intro",
    "id_last4",
    "health_passed_on",
)
#: an edit of one of these sends its check back to staff (`recheck`)
CHECKED_FIELDS = {"name": "identity", "id_last4": "identity", "id_hash": "identity"}
CHECKED_FIELDS["health_passed_on"] = "health"
#: the fields matching reads through `WorkerTag` rows (`tags_of`): kept equal on every edit
TAGGED_FIELDS = frozenset({"kinds", "skills", "years", "places", "pay", "languages"})


class Stale(Exception):
    """A staff decision or check on a profile that changed since it was shown (another
    staff member decided, or she edited it). `profile` is how it is now (None: gone)."""

    def __init__(self, profile: WorkerProfile | None) -> None:
        super().__init__("the profile changed since it was shown")
        self.profile = profile


class NotAllowed(Exception):
    """A decision the profile's state does not allow (`approve` while a required check
    is missing, `suspend` a draft); `missing` lists the checks still needed."""

    def __init__(self, why: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(why)
        self.why = why
        self.missing = missing


# --- ID numbers ---------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class BadIdNumber(ValueError):
    """An ID number that cannot be right: `why` is `shape` (not 18 characters, digits
    and a final digit or X), `birth` (no such date of birth) or `check_digit`."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def check_id_number(text: str) -> str:
    """A mainland resident identity card number (GB 11643-1999), normalised: 18
    characters, 17 digits and a check digit (ISO 7064 MOD 11-2, `X` for 10), digits
    7-14 a date of birth. Spaces are ignored, `x` is upper-cased.

    Raises `BadIdNumber` (`shape`, `birth`, `check_digit`)."""
    number = "".join(text.split()).upper()
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        raise BadIdNumber("shape")
    if not (number[17].isdigit() or number[17] == "X"):
        raise BadIdNumber("shape")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise BadIdNumber("birth") from None
    if born.year < 1900 or born > dt.date.today():
        raise BadIdNumber("birth")
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise BadIdNumber("check_digit")
    return number


# digits however written: any script's decimal digits, Chinese numerals written digit by
# digit (一三八, 幺, 〇, 壹贰叁), as people spell out numbers to get past a filter
_NUMERALS = str.maketrans(
    "〇零一二三四五六七八九幺壹贰貳叁參肆伍陆陸柒捌玖两兩",
    "00123456789112233456678922",
)
_CN_UNITS_IN = re.compile(r"[十百千万萬亿億拾佰仟]")
_DIGIT_RUN = re.compile(r"[0-9X]+")
# what people put between the groups of a number: any few characters that are neither
# digits nor X (spaces, dashes, dots, slashes, brackets, a word like 年 or 号)
_ID_GAPS = re.compile(r"(?<=[0-9])[^0-9X]{1,3}(?=[0-9X])")
# a phone number's groups: spaces, dashes and brackets only (a dot joins dates: 1998.3)
_PHONE_GAPS = re.compile(r"(?<=[0-9])[\s\-‐‑–—−_~～〜、，,*()（）/]{1,3}(?=[0-9(（])")


def _digits(text: str) -> str:
    """`text` with every digit in ASCII and numerals written digit by digit as digits
    (a numeral next to 十, 百, 千, 万 is an amount, left alone)."""
    text = unicodedata.normalize("NFKC", text).upper()
    text = "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )
    if _CN_UNITS_IN.search(text):
        return text
    return text.translate(_NUMERALS)


def holds_id_number(text: str) -> bool:
    """Whether free text (an introduction, a note, a reason, a search) holds a whole ID
    number, however it is grouped or spelt (`110105-19491231-002X`, `110105年19491231号
    002x`, `一一〇一〇五…`, other scripts' digits): it would be kept whole. Any 18
    characters in a row that make a valid number (check digit and date of birth) count."""
    joined = _ID_GAPS.sub("", _digits(text))
    for run in _DIGIT_RUN.findall(joined):
        for start in range(0, max(0, len(run) - 17)):
            try:
                check_id_number(run[start : start + 18])
            except BadIdNumber:
                continue
            return True
    return False


# a phone number (mainland mobiles with or without +86 / 0086 / 86, landlines with an
# area code, Hong Kong and Macau mobiles with or without 852 / 853, anything with +),
# a messenger handle after its app's name (or a nickname for it), an e-mail address or
# an @handle: none of them may reach a household before both sides agree (issue 11)
_PHONE_LIKE = re.compile(
    r"(?<![0-9])(?:(?:00|\+)?86)?1[3-9][0-9]{9}(?![0-9])"
    r"|(?<![0-9])0[0-9]{2,3}[0-9]{7,8}(?![0-9])"
    r"|(?<![0-9])(?:00|\+)?85[23][4-9][0-9]{7}(?![0-9])"
    r"|\+[0-9]{8,15}(?![0-9])"
)
# a Hong Kong or Macau mobile written without its country code: eight digits from 4 to
# 9, but not two round amounts side by side (`5000-7000`, a monthly pay)
_LOCAL_MOBILE = re.compile(r"(?<![0-9])[4-9][0-9]{7}(?![0-9])")
# a messenger's name or nickname, then a handle (letters will do); a phone's name, then
# a handle with a digit in it (`phone calls` is not a number)
_MESSENGERS = (
    r"微信|微訊|威信|薇信|[vV]信|加[vV]|卫星|扣扣|企鹅|企鵝|"
    r"(?<![a-z])(?:wechat|weixin|vx|wx|qq|whats\s?app|wa|telegram|tg)(?![a-z])"
)
_PHONES = r"电话|電話|手机|手機|联系|聯絡|联络|(?<![a-z])(?:line|tel|phone|call)(?![a-z])"
_SPACER = r"\s*(?:号码|號碼|号|號|id|no\.?)?\s*[:：是係]?\s*@?"
_HANDLE = re.compile(
    rf"(?:{_MESSENGERS}){_SPACER}[a-z0-9][a-z0-9_\-]{{4,}}"
    rf"|(?:{_PHONES}){_SPACER}(?=[a-z_\-]*[0-9])[a-z0-9][a-z0-9_\-]{{4,}}",
    re.IGNORECASE,
)
_EMAIL_OR_AT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|(?<![\w])@[a-z0-9_]{4,}", re.IGNORECASE)


def holds_contact(text: str) -> bool:
    """Whether free text shown to households (her introduction, a past job's place)
    holds a way to reach her: a phone number however grouped or spelt (`138 0013 8000`,
    `86-138-0013-8000`, `0668-2880001`, `852 9123 4567`, `一三八…`), a messenger
    handle after its app's name or nickname (`微信：fong1234`, `V信 fongfong`), an
    e-mail address or an @handle. Contacts reach the other side only after both agree
    (../shared/domain.md). Dates (`1998.3-2008.12`) and amounts are not numbers."""
    plain = unicodedata.normalize("NFKC", text)
    joined = _PHONE_GAPS.sub("", _digits(plain))
    local = any(
        not (m.group()[2:4] == "00" and m.group()[6:8] == "00")
        for m in _LOCAL_MOBILE.finditer(joined)
    )
    return bool(
        local or _PHONE_LIKE.search(joined) or _HANDLE.search(plain) or _EMAIL_OR_AT.search(plain)
    )


def id_digest(number: str, key: str) -> str:
    """HMAC-SHA256 of a normalised ID number, hex: finds the same person on two
    profiles without keeping the number."""
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    """A fresh credential code, `CODE_LENGTH` characters of `CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    """`7K2M9QPDXW3A` as people read it: `7K2M-9QPD-XW3A`."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def read_code(text: str) -> str | None:
    """A code as typed (any case, spaces, dashes; O for 0, I and L for 1) in the form it
    is stored, or None when it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum() and ch.isascii())
    raw = raw.removeprefix("VERIFY").translate(str.maketrans("OIL", "011"))
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return raw


def health_valid(profile: WorkerProfile, on: dt.date) -> bool:
    return profile.health_valid_until is not None and profile.health_valid_until >= on


def visible(on: dt.date) -> Any:
    """The SQL condition for a profile households may be shown on day `on`."""
    return and_(
        WorkerProfile.status == "verified",
        WorkerProfile.paused.is_(False),
        WorkerProfile.shared_at.is_not(None),
        WorkerProfile.health_valid_until >= on,
    )


def is_visible(profile: WorkerProfile, on: dt.date) -> bool:
    """`visible` for a loaded profile."""
    return (
        profile.status == "verified"
        and not profile.paused
        and profile.shared_at is not None
        and health_valid(profile, on)
    )


#: a language as one letter in `o:` tags (`LANGUAGES` order: a, b, c…)
LANGUAGE_LETTERS = {t.id: chr(ord("a") + i) for i, t in enumerate(LANGUAGES)}


def offer_prefix(kind: str, place: str, mode: str) -> str:
    """The start of the `o:` tag of a worker who offers this kind of work, in this place,
    in this mode (`tags_of`)."""
    return f"o:{kind}/{place}/{mode}/"


def tags_of(profile: WorkerProfile) -> set[str]:
    """What she offers as matching's tags (issue 11): `kind:` each kind of work and
    add-on skill, `place:` each county and city, `mode:` each mode she gave a pay for,
    `lang:` each language; and one `o:` tag for each (kind, place, mode) she offers,
    carrying what matching sorts by, so that it reads one index range and no profile:
    `o:maternity/maonan/live_in/` + her years (2 digits, at most 99) + her lowest pay
    for that mode (5 digits, yuan) + her languages (`LANGUAGE_LETTERS`, sorted), e.g.
    `o:maternity/maonan/live_in/0608000ab` (at most 48 characters)."""
    kinds = {*(profile.kinds or []), *(profile.skills or [])}
    places = set(profile.places or [])
    pay = {m: v for m, v in (profile.pay or {}).items() if v}
    languages = list(profile.languages or [])
    tags = {f"kind:{k}" for k in kinds} | {f"place:{p}" for p in places}
    tags |= {f"mode:{m}" for m in pay} | {f"lang:{x}" for x in languages}
    years = min(max(profile.years or 0, 0), 99)
    letters = "".join(sorted({LANGUAGE_LETTERS[x] for x in languages if x in LANGUAGE_LETTERS}))
    for mode, value in pay.items():
        low = value[0] if isinstance(value, list) and value and isinstance(value[0], int) else 0
        tail = f"{years:02d}{min(max(low, 0), 99999):05d}{letters}"
        tags |= {offer_prefix(k, p, mode) + tail for k in kinds for p in places}
    return {t for t in tags if len(t) <= 48}


def snapshot(profile: WorkerProfile) -> dict[str, Any]:
    """Her fields as plain JSON values (dates as ISO text), certificates included: kept
    as what staff last saw, to show what changed since."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(profile, name)
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    out["certificates"] = {
        str(c.id): [
            c.kind,
            c.number,
            c.issuer,
            c.issued_on.isoformat() if c.issued_on else None,
            c.photo,  # a new photo is a change too
        ]
        for c in profile.certificates
    }
    return out


def changed_since(profile: WorkerProfile) -> list[str]:
    """The fields (and `certificates`) that differ from what staff last saw; every
    field when staff never looked."""
    now, seen = snapshot(profile), profile.reviewed or {}
    return [name for name, value in now.items() if seen.get(name) != value]


@dataclass(frozen=True)
class CheckState:
    """The newest record of one check: `result` is `passed`, `failed` or `recheck`;
    `missing` when staff never recorded it."""

    kind: str
    subject: str
    result: str
    checked_on: dt.date | None = None
    valid_until: dt.date | None = None
    staff: str = ""
    note: str = ""


class WorkerRepo:
    """Worker profiles and their vetting. Staff decisions are conditional on the version
    they saw (`Stale`); every decision and check is written to the audit log."""

    def __init__(self, session: AsyncSession, store: FileStore | None = None) -> None:
        """`store`: the file store, which keeps the key of ID-number hashes."""
        self.session = session
        self.store = store or FileStore.default()

    # --- her profile --------------------------------------------------------------------
    async def of_user(self, user: User) -> WorkerProfile | None:
        """Her profile with its certificates, or None."""
        if user.id is None:
            return None
        return await self.session.scalar(
            select(WorkerProfile)
            .where(WorkerProfile.user_id == user.id)
            .options(selectinload(WorkerProfile.certificates))
        )

    async def get(self, profile_id: int) -> WorkerProfile | None:
        return await self.session.scalar(
            select(WorkerProfile)
            .where(WorkerProfile.id == profile_id)
            .options(selectinload(WorkerProfile.certificates))
            .execution_options(populate_existing=True)
        )

    async def start(self, user: User) -> WorkerProfile:
        """Her profile, made as a draft the first time, with her name from sign-up."""
        profile = await self.of_user(user)
        if profile is not None:
            return profile
        await self.session.flush()  # her row, if new
        kept = await self.session.get(Profile, user.id)
        profile = WorkerProfile(
            user_id=user.id,
            name=kept.name if kept else "",
            status="draft",
            version=1,
            kinds=[],
            skills=[],
            jobs=[],
            places=[],
            pay={},
            languages=[],
            reviewed={},
            certificates=[],
        )
        self.session.add(profile)
        await self.session.flush()
        await self.sync_tags(profile)
        return profile

    async def sync_tags(self, profile: WorkerProfile) -> None:
        """Make her `WorkerTag` rows equal to `tags_of(profile)` (only the difference is
        written)."""
        if profile.id is None:
            await self.session.flush()
        wanted = tags_of(profile)
        kept = set(
            await self.session.scalars(
                select(WorkerTag.tag).where(WorkerTag.profile_id == profile.id)
            )
        )
        if gone := kept - wanted:
            await self.session.execute(
                delete(WorkerTag).where(WorkerTag.profile_id == profile.id, WorkerTag.tag.in_(gone))
            )
        if new := wanted - kept:
            await self.session.execute(
                insert(WorkerTag), [{"profile_id": profile.id, "tag": t} for t in sorted(new)]
            )

    async def edit(self, profile: WorkerProfile, **values: Any) -> list[str]:
        """Set her fields (`FIELDS`, and `id_hash`). Returns the checks sent back to
        staff: a changed checked field (`name`, the ID: identity; the health date:
        health) whose check staff already recorded, in any state, is recorded as
        `recheck` (a check passed on what she wrote before never vouches for what she
        writes now); a verified profile then joins the vetting queue, and the rest of it
        stays verified."""
        reopened: list[str] = []
        for name, value in values.items():
            if name not in FIELDS and name != "id_hash":
                raise KeyError(name)
            if getattr(profile, name) == value:
                continue
            setattr(profile, name, value)
            check = CHECKED_FIELDS.get(name)
            if check and check not in reopened:
                reopened.append(check)
        if values:
            profile.version += 1
        if TAGGED_FIELDS & values.keys():
            await self.sync_tags(profile)
        return [kind for kind in reopened if await self._reopen(profile, kind, "")]

    async def add_certificate(
        self,
        profile: WorkerProfile,
        kind: str,
        number: str,
        issuer: str,
        issued_on: dt.date | None,
        photo: str | None = None,
    ) -> Certificate:
        cert = Certificate(
            profile_id=profile.id,
            kind=kind,
            number=number,
            issuer=issuer,
            issued_on=issued_on,
            photo=photo,
        )
        profile.certificates.append(cert)
        profile.version += 1
        await self.session.flush()
        if profile.status in ("verified", "suspended") and profile.queued_at is None:
            profile.queued_at = utcnow()  # a new certificate for staff to check
        return cert

    async def edit_certificate(self, profile: WorkerProfile, cert_id: int, **values: Any) -> None:
        """Change one of her certificates (`kind`, `number`, `issuer`, `issued_on`,
        `photo`); a certificate staff already checked goes back to them (`edit`)."""
        cert = next((c for c in profile.certificates if c.id == cert_id), None)
        if cert is None:
            raise KeyError(cert_id)
        changed = False
        for name, value in values.items():
            changed = changed or getattr(cert, name) != value
            setattr(cert, name, value)
        profile.version += 1
        if changed:
            await self._reopen(profile, "certificate", str(cert_id))

    async def remove_certificate(self, profile: WorkerProfile, cert_id: int) -> str | None:
        """Remove one of her certificates; returns its photo's file name (to delete)."""
        cert = next((c for c in profile.certificates if c.id == cert_id), None)
        if cert is None:
            raise KeyError(cert_id)
        profile.certificates.remove(cert)
        profile.version += 1
        # its checks go with it: a certificate added later may get the same id (SQLite
        # reuses the highest), and must never inherit a check of what it replaced
        await self.session.execute(
            delete(VettingCheck).where(
                VettingCheck.profile_id == profile.id,
                VettingCheck.kind == "certificate",
                VettingCheck.subject == str(cert_id),
            )
        )
        await self.session.flush()
        return cert.photo

    async def _reopen(self, profile: WorkerProfile, kind: str, subject: str) -> bool:
        """Record `recheck` for a check staff already recorded (passed or failed); a
        verified or suspended profile joins the queue. False when there was none."""
        await self.session.flush()
        current = (await self.checks(profile)).get((kind, subject))
        if current is None or current.result == "recheck":
            return current is not None
        self.session.add(
            VettingCheck(
                profile_id=profile.id,
                kind=kind,
                subject=subject,
                result="recheck",
                checked_on=utcnow().date(),
                staff="",
                note="",
            )
        )
        # the rest stays as it was: a health date she edited keeps the recorded check
        # valid until it runs out or staff record the new one
        if profile.status in ("verified", "suspended") and profile.queued_at is None:
            profile.queued_at = utcnow()
        return True

    async def submit(self, profile: WorkerProfile) -> None:
        """Send a draft (or a profile staff asked to change) to staff."""
        if profile.status not in ("draft", "changes"):
            raise NotAllowed("state")
        before = profile.status
        now = utcnow()
        profile.status, profile.submitted_at, profile.queued_at = "submitted", now, now
        profile.version += 1
        self.audit(
            f"worker:{profile.id}", "", "submit", {"status": before}, {"status": "submitted"}
        )

    async def set_paused(self, profile: WorkerProfile, paused: bool) -> None:
        profile.paused = paused
        profile.version += 1

    async def set_shared(self, profile: WorkerProfile, shared: bool) -> None:
        """Her consent to show the profile to households, given or withdrawn (hidden at
        once: `visible` reads it)."""
        profile.shared_at = utcnow() if shared else None
        profile.version += 1

    # --- checks and decisions ----------------------------------------------------------
    async def checks(self, profile: WorkerProfile) -> dict[tuple[str, str], CheckState]:
        """The newest record of each (kind, subject) checked on this profile."""
        rows = await self.session.scalars(
            select(VettingCheck)
            .where(VettingCheck.profile_id == profile.id)
            .order_by(VettingCheck.id)
        )
        out: dict[tuple[str, str], CheckState] = {}
        for row in rows:
            out[(row.kind, row.subject)] = CheckState(
                row.kind,
                row.subject,
                row.result,
                row.checked_on,
                row.valid_until,
                row.staff,
                row.note,
            )
        return out

    async def record_check(
        self,
        profile_id: int,
        seen_version: int,
        staff: str,
        kind: str,
        subject: str,
        result: str,
        checked_on: dt.date,
        note: str = "",
    ) -> WorkerProfile:
        """Record one check by `staff` (passed or failed, on `checked_on`). A passed
        health check is valid `HEALTH_VALID_DAYS` from the examination (`checked_on`).
        Raises `Stale` when the profile is not at `seen_version`."""
        profile = await self._bump(profile_id, seen_version)
        valid_until = None
        if kind == "health" and result == "passed":
            valid_until = checked_on + dt.timedelta(days=HEALTH_VALID_DAYS)
            profile.health_passed_on = checked_on
            profile.health_valid_until = valid_until
        elif kind == "health":
            profile.health_valid_until = None
        before = await self.checks(profile)
        old = before.get((kind, subject))
        self.session.add(
            VettingCheck(
                profile_id=profile.id,
                kind=kind,
                subject=subject,
                result=result,
                checked_on=checked_on,
                valid_until=valid_until,
                staff=staff,
                note=note[:200],
            )
        )
        self.audit(
            f"worker:{profile.id}",
            staff,
            f"check:{kind}" + (f":{subject}" if subject else ""),
            {"result": old.result if old else "missing"},
            {"result": result, "on": checked_on.isoformat()},
            note,
        )
        profile.reviewed = snapshot(profile)  # what she changes from now shows as changed
        if profile.status == "verified" and not await self._rechecks_left(profile):
            profile.queued_at = None
        await self.session.flush()
        return profile

    async def _rechecks_left(self, profile: WorkerProfile) -> bool:
        await self.session.flush()
        return any(c.result == "recheck" for c in (await self.checks(profile)).values())

    async def decide(
        self,
        profile_id: int,
        seen_version: int,
        staff: str,
        decision: str,
        reason: str = "",
        today: dt.date | None = None,
    ) -> WorkerProfile:
        """A staff decision (`DECISIONS`: approve, changes, reject, suspend, reinstate)
        on the profile as shown at `seen_version`, with the reason (asked for changes,
        rejection and suspension). Raises `Stale` (it moved on: another decided, or
        she edited it) or `NotAllowed` (`state`: not from this state; `checks`: a
        required check not passed, `missing` lists them)."""
        today = today or utcnow().date()
        profile = await self.get(profile_id)
        if profile is None or profile.version != seen_version:
            raise Stale(profile)
        allowed_from, after = DECISIONS[decision]
        if profile.status not in allowed_from:
            raise NotAllowed("state")
        if decision in ("approve", "reinstate"):
            checks = await self.checks(profile)
            missing = tuple(
                kind
                for kind in REQUIRED_CHECKS
                if (c := checks.get((kind, ""))) is None
                or c.result != "passed"
                or (kind == "health" and not (c.valid_until and c.valid_until >= today))
            )
            if missing:
                raise NotAllowed("checks", missing)
        profile = await self._bump(profile_id, seen_version)
        before = {"status": profile.status}
        profile.status = after
        profile.reason = reason if decision in ("changes", "reject", "suspend") else ""
        if decision in ("changes", "reject", "suspend"):
            profile.answer = ""
        if after == "verified":
            profile.verified_at = profile.verified_at or utcnow()
            profile.code = profile.code or new_code()
        if decision in ("approve", "changes", "reject"):
            profile.queued_at = None
            profile.reviewed = snapshot(profile)
        self.audit(f"worker:{profile.id}", staff, decision, before, {"status": after}, reason)
        await self.session.flush()
        return profile

    async def _bump(self, profile_id: int, seen_version: int) -> WorkerProfile:
        """Move the profile from `seen_version` to the next, in one conditional UPDATE
        (the race between two staff is decided here); `Stale` when it was not there."""
        result = await self.session.execute(
            update(WorkerProfile)
            .where(WorkerProfile.id == profile_id, WorkerProfile.version == seen_version)
            .values(version=WorkerProfile.version + 1)
            .execution_options(synchronize_session=False)
        )
        profile = await self.get(profile_id)
        if result.rowcount != 1 or profile is None:
            raise Stale(profile)
        return profile

    async def answer(self, profile: WorkerProfile, text: str) -> None:
        """Her answer to the staff's reason for asking for changes."""
        profile.answer = text
        profile.version += 1

    async def mark_seen(self, profile: WorkerProfile) -> None:
        """Staff looked at the profile: what changed is counted from now."""
        profile.reviewed = snapshot(profile)

    async def queue(
        self, limit: int = 1, after: int | None = None, *, base_id: int | None = None
    ) -> list[WorkerProfile]:
        """Profiles waiting for staff, the longest waiting first (`after`: skip to those
        queued after this profile; `base_id`: only that training base's, `of_base`)."""
        query = select(WorkerProfile).where(WorkerProfile.queued_at.is_not(None))
        if base_id is not None:
            query = query.where(_of_base(base_id))
        if after is not None:
            mark = select(WorkerProfile.queued_at).where(WorkerProfile.id == after)
            query = query.where(
                (WorkerProfile.queued_at, WorkerProfile.id) > (mark.scalar_subquery(), after)
            )
        query = query.order_by(WorkerProfile.queued_at, WorkerProfile.id).limit(limit)
        return list(
            await self.session.scalars(query.options(selectinload(WorkerProfile.certificates)))
        )

    async def waiting(self, base_id: int | None = None) -> int:
        """How many profiles wait for staff (`base_id`: that training base's only)."""
        query = select(func.count(WorkerProfile.id)).where(WorkerProfile.queued_at.is_not(None))
        if base_id is not None:
            query = query.where(_of_base(base_id))
        return (await self.session.scalar(query)) or 0

    async def of_base(self, profile_id: int, base_id: int) -> bool:
        """Whether the profile is the training base's to vet: she signed up for, or was
        trained on, one of its courses (a base's staff vet the women they train; the
        programme office vets everyone)."""
        found = await self.session.scalar(
            select(WorkerProfile.id).where(WorkerProfile.id == profile_id, _of_base(base_id))
        )
        return found is not None

    async def same_id(self, profile: WorkerProfile) -> list[int]:
        """Other profiles with the same ID number (by its keyed hash)."""
        if not profile.id_hash:
            return []
        return list(
            await self.session.scalars(
                select(WorkerProfile.id).where(
                    WorkerProfile.id_hash == profile.id_hash, WorkerProfile.id != profile.id
                )
            )
        )

    async def id_key(self) -> str:
        """The key of `id_digest` (kept outside the database: `FileStore.id_hash_key`)."""
        return self.store.id_hash_key()

    # --- the audit log -----------------------------------------------------------------
    def audit(
        self,
        subject: str,
        actor: str,
        action: str,
        before: dict[str, Any],
        after: dict[str, Any],
        reason: str = "",
    ) -> None:
        """Write one audit entry (who, what, on what, before and after, why)."""
        self.session.add(
            AuditEntry(
                subject=subject,
                actor=actor,
                action=action,
                before=before,
                after=after,
                reason=reason,
                at=utcnow(),
            )
        )

    async def audit_of(self, subject: str, limit: int = 20) -> list[AuditEntry]:
        """The newest `limit` entries about `subject`, newest first."""
        return list(
            await self.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject == subject)
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
        )

    async def forget(self, user: User) -> None:
        """Delete what is about her outside her own rows (those go with her row by
        cascade): the audit entries on her profile and her trainings. Her failed
        look-ups stay until they expire. Her files are deleted with her row
        (`UserRepo.erase`)."""
        profile = await self.of_user(user)
        subjects = [AuditEntry.subject.like(f"training:{user.id}:%")]
        if profile is not None:
            subjects.append(AuditEntry.subject == f"worker:{profile.id}")
        await self.session.execute(delete(AuditEntry).where(or_(*subjects)))
        # her failed look-ups stay until they expire (an hour): erasing herself must not
        # give her more tries; they hold a keyed hash of her platform id, nothing else

    # --- credentials --------------------------------------------------------------------
    async def by_code(self, code: str) -> WorkerProfile | None:
        return await self.session.scalar(
            select(WorkerProfile)
            .where(WorkerProfile.code == code)
            .options(selectinload(WorkerProfile.certificates))
        )

    def _who(self, key: str) -> str:
        """A person's platform key as look-ups keep it: a keyed hash (hex)."""
        return hmac.new(
            self.store.id_hash_key().encode(), b"lookup|" + key.encode(), hashlib.sha256
        ).hexdigest()

    async def lookups_left(self, who: str) -> int:
        """How many more wrong codes `who` may try within `LOOKUP_WINDOW`."""
        since = utcnow() - LOOKUP_WINDOW
        failed = await self.session.scalar(
            select(func.count(LookupFailure.id)).where(
                LookupFailure.who == self._who(who), LookupFailure.at >= since
            )
        )
        return max(0, LOOKUP_LIMIT - (failed or 0))

    async def lookup_failed(self, who: str) -> None:
        self.session.add(LookupFailure(who=self._who(who), at=utcnow()))
        await self.session.execute(
            delete(LookupFailure).where(LookupFailure.at < utcnow() - LOOKUP_WINDOW)
        )

    async def next_lookup_at(self, who: str) -> dt.datetime | None:
        """When `who` may try again (naive UTC), when out of tries."""
        oldest = await self.session.scalar(
            select(func.min(LookupFailure.at)).where(
                LookupFailure.who == self._who(who),
                LookupFailure.at >= utcnow() - LOOKUP_WINDOW,
            )
        )
        return oldest + LOOKUP_WINDOW if oldest else None

    # --- training through Haoxin -------------------------------------------------------
    async def trainings(self, user_id: int) -> list[tuple[Training, Course]]:
        """The courses she attended or completed, as marked by staff, oldest first."""
        rows = await self.session.execute(
            select(Training, Course)
            .join(Course, Course.id == Training.course_id)
            .where(Training.user_id == user_id)
            .order_by(Course.starts_on, Course.id)
        )
        return [(t, c) for t, c in rows]

    async def mark_training(
        self,
        user_id: int,
        course_id: int,
        staff: str,
        *,
        attended: bool | None = None,
        completed_on: dt.date | None = None,
        uncomplete: bool = False,
    ) -> Training:
        """Staff mark her attendance and completion of a course (one row per person and
        course, updated), in the audit log."""
        row = await self.session.scalar(
            select(Training).where(Training.user_id == user_id, Training.course_id == course_id)
        )
        before = {"attended": row.attended, "completed_on": _iso(row.completed_on)} if row else {}
        if row is None:
            row = Training(user_id=user_id, course_id=course_id, attended=False)
            self.session.add(row)
        if attended is not None:
            row.attended = attended
        if completed_on is not None:
            row.completed_on, row.attended = completed_on, True
        if uncomplete:
            row.completed_on = None
        row.marked_by, row.marked_at = staff, utcnow()
        after = {"attended": row.attended, "completed_on": _iso(row.completed_on)}
        self.audit(f"training:{user_id}:{course_id}", staff, "training", before, after)
        await self.session.flush()
        return row

    async def profiles_by_ids(self, ids: Iterable[int]) -> list[WorkerProfile]:
        ids = list(ids)
        if not ids:
            return []
        return list(
            await self.session.scalars(
                select(WorkerProfile)
                .where(WorkerProfile.id.in_(ids))
                .options(selectinload(WorkerProfile.certificates))
            )
        )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _of_base(base_id: int) -> Any:
    """A condition on `WorkerProfile`: her user signed up for (any status) or was
    trained on a course of training base `base_id`."""
    signed = (
        select(Signup.id)
        .join(Course, Course.id == Signup.course_id)
        .where(Signup.user_id == WorkerProfile.user_id, Course.base_id == base_id)
        .exists()
    )
    trained = (
        select(Training.id)
        .join(Course, Course.id == Training.course_id)
        .where(Training.user_id == WorkerProfile.user_id, Course.base_id == base_id)
        .exists()
    )
    return or_(signed, trained)
