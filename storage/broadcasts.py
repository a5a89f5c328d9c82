"""Broadcasts: programme notices to many people, delivered as a durable job (issue 12).

    create ─▶ draft ─confirm(version)─▶ queued ─(send_at)─▶ sending ─▶ done
       (revise)                            └──────── cancel ────────┴─▶ cancelled

- **Who**: `audience_keys(session, audience)` turns the audience (a small JSON filter,
  `check_audience` gives its shape) into platform keys; `audience_counts` gives the
  preview, per platform.
- **Confirming** is one conditional UPDATE on (`status`, `version`): of two staff
  confirming the same draft, one wins and there is one queue. The deliveries are
  written when it comes due, by a broadcaster (`bot.broadcaster`), to the audience as
  it is then; writing, claiming and settling them is `storage.deliveries`, whose
  `DeliveryRepo` this repository extends.
- **Cancelling** stops it at once: nothing more is claimed.
- **Progress**: the counts (kept equal to the deliveries' rows), what is left, and
  the time left at the rate.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deliveries import LEFT, PLATFORMS, DeliveryRepo, id_of
from storage.models import (
    AuditEntry,
    Broadcast,
    BroadcastDelivery,
    FairRegistration,
    Profile,
    Signup,
    User,
    WorkerProfile,
    WorkerTag,
    utcnow,
)

#: the longest notice text, in UTF-16 code units (`notice_length`: a Chinese character
#: is one, most emoji two), so that a notice is always one Telegram message (4,096
#: units, Bot API sendMessage) with the few words on opening its course and turning
#: notices off: a split notice could be cut by flood control between its parts
MAX_TEXT = 4000
#: the languages a notice can have its own text in; `all` is one text for every language
LANGUAGES = ("zh", "yue", "en")
#: who a notice can go to (`check_audience`)
WHO = ("everyone", "seekers", "households", "workers", "course", "fair")


class BroadcastInvalid(ValueError):
    """A notice that cannot be sent as written. `reason`: `empty_text`, `too_long`
    (over `MAX_TEXT` characters), `language` (a text for a language Haoxin does not
    speak), `audience` (an unknown `who`, or a course or fair without its id),
    `button` (not a course or fair id). `lang`: the text's language, for the first two."""

    def __init__(self, reason: str, lang: str = "") -> None:
        super().__init__(f"{reason} {lang}".strip())
        self.reason = reason
        self.lang = lang


def notice_length(text: str) -> int:
    """A notice's length as `MAX_TEXT` counts it: UTF-16 code units (Telegram's unit)."""
    return len(text.encode("utf-16-le")) // 2


#: characters that show nothing though Unicode does not call them spaces (Braille
#: blank, Hangul fillers): a text of these and spaces is empty
_BLANK = frozenset("\u2800\u3164\u115f\u1160\uffa0")


def shows_nothing(text: str) -> bool:
    """Whether `text` holds nothing a reader would see: only spaces, invisible format
    characters (zero-width, BOM) and blank characters (`_BLANK`)."""
    return all(
        ch.isspace() or ch in _BLANK or unicodedata.category(ch) in ("Cf", "Cc", "Zs")
        for ch in text
    )


def check_texts(texts: dict[str, str]) -> dict[str, str]:
    """The texts as they will be kept: each stripped; {"all": text} or any of `zh`,
    `yue`, `en`. Raises `BroadcastInvalid` for no text, an empty one, one over
    `MAX_TEXT` characters, or another language."""
    if not texts:
        raise BroadcastInvalid("empty_text")
    out = {}
    for lang, text in texts.items():
        if lang != "all" and lang not in LANGUAGES:
            raise BroadcastInvalid("language", str(lang))
        text = (text or "").strip()
        if not text or shows_nothing(text):
            raise BroadcastInvalid("empty_text", lang)
        if notice_length(text) > MAX_TEXT:
            raise BroadcastInvalid("too_long", lang)
        out[lang] = text
    return out


def check_audience(audience: dict[str, Any]) -> dict[str, Any]:
    """The audience as kept. Shape (every key but `who` optional; lists empty or missing
    mean "any"):

        {"who": "everyone" | "seekers" | "households" | "workers" | "course" | "fair",
         "kinds": ["maternity", ...],    # workers: kinds of work (`KINDS_OF_WORK` ids)
         "vetting": ["verified", ...],   # workers: `WorkerProfile.status` values
         "course_id": 3,                 # course: people holding a place on it
         "signups": ["confirmed"],       # course: which places (default confirmed
                                         # and waitlisted)
         "fair_id": 5,                   # fair: people registered for it
         "counties": ["maonan", ...],    # anyone: the county she gave (`Profile.county`)
         "langs": ["yue", ...]}          # anyone: the language she reads

    Raises `BroadcastInvalid("audience")`."""
    who = audience.get("who", "everyone")
    if who not in WHO:
        raise BroadcastInvalid("audience")
    for key in ("course_id", "fair_id"):
        if who == key.removesuffix("_id") and not _is_id(audience.get(key)):
            raise BroadcastInvalid("audience")
    for key in ("kinds", "vetting", "signups", "counties", "langs"):
        value = audience.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BroadcastInvalid("audience")
    return {"who": who, **{k: v for k, v in audience.items() if k != "who"}}


def check_button(button: dict[str, Any] | None) -> dict[str, Any] | None:
    """{"kind": "course" | "fair", "id": n}, or None. Raises `BroadcastInvalid("button")`."""
    if button is None:
        return None
    if button.get("kind") not in ("course", "fair") or not _is_id(button.get("id")):
        raise BroadcastInvalid("button")
    return {"kind": button["kind"], "id": button["id"]}


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def text_for(broadcast: Broadcast, lang: str) -> str:
    """The notice's text for a reader of `lang`: hers, or the one for all, or (a text
    missing for her language) the first there is."""
    texts = broadcast.texts or {}
    return texts.get(lang) or texts.get("all") or next(iter(texts.values()), "")


# --- who receives it --------------------------------------------------------------------
def _audience_query(audience: dict[str, Any]) -> Any:
    """SELECT key, notices_off, reachable of the people the audience names, each once."""
    audience = check_audience(audience)
    who = audience["who"]
    query = select(User.key, User.notices_off, User.reachable).where(
        or_(*(User.key.like(f"{p}:%") for p in PLATFORMS))
    )
    if who == "seekers":
        query = query.where(User.role == "seeker")
    elif who == "households":
        query = query.where(User.role == "household")
    elif who == "workers":
        profiles = select(WorkerProfile.user_id)
        if audience.get("vetting"):
            profiles = profiles.where(WorkerProfile.status.in_(audience["vetting"]))
        if audience.get("kinds"):
            tagged = select(WorkerTag.profile_id).where(
                WorkerTag.tag.in_([f"kind:{k}" for k in audience["kinds"]])
            )
            profiles = profiles.where(WorkerProfile.id.in_(tagged))
        query = query.where(User.id.in_(profiles))
    elif who == "course":
        places = audience.get("signups") or ["confirmed", "waitlisted"]
        holding = select(Signup.user_id).where(
            Signup.course_id == audience["course_id"], Signup.status.in_(places)
        )
        query = query.where(User.id.in_(holding))
    elif who == "fair":
        registered = select(FairRegistration.user_id).where(
            FairRegistration.fair_id == audience["fair_id"],
            FairRegistration.status == "registered",
        )
        query = query.where(User.id.in_(registered))
    if audience.get("counties"):
        living = select(Profile.user_id).where(Profile.county.in_(audience["counties"]))
        query = query.where(User.id.in_(living))
    if audience.get("langs"):
        query = query.where(User.lang.in_(audience["langs"]))
    return query.order_by(User.id)


async def audience_keys(session: AsyncSession, audience: dict[str, Any]) -> list[str]:
    """The platform keys of everyone the audience names (`check_audience` gives its
    shape), in the order they joined; those who turned notices off or blocked the bot
    too (their deliveries are written `skipped` and `unreachable`). Raises
    `BroadcastInvalid("audience")`."""
    return [key for key, _off, _reachable in await session.execute(_audience_query(audience))]


async def audience_counts(session: AsyncSession, audience: dict[str, Any]) -> dict[str, int]:
    """The preview: how many people the notice would be sent to, per platform (`tg`,
    `wx`, `console`; a platform with nobody is left out), and beside them `opted_out`
    (turned notices off) and `unreachable` (blocked the bot): those are sent nothing.
    Raises `BroadcastInvalid("audience")`."""
    counts: dict[str, int] = {}
    for key, off, reachable in await session.execute(_audience_query(audience)):
        where = "opted_out" if off else "unreachable" if not reachable else key.split(":")[0]
        counts[where] = counts.get(where, 0) + 1
    return counts


@dataclass(frozen=True)
class Progress:
    """Where a broadcast stands: its status and counts (as `Broadcast`), `left` to send
    (pending or being sent), `cancelled` (not sent: staff cancelled first), and
    `seconds_left` at `rate` messages a second (0 when nothing is left)."""

    status: str
    total: int
    sent: int
    failed: int
    unreachable: int
    not_reachable_wechat: int
    skipped_opted_out: int
    left: int
    cancelled: int
    seconds_left: float


class BroadcastRepo(DeliveryRepo):
    """Broadcasts: what staff write, confirm, cancel and follow; and (`DeliveryRepo`)
    their deliveries. Every method works in the caller's transaction."""

    # --- staff: write, confirm, cancel, follow ----------------------------------------
    async def create(
        self,
        created_by: str,
        texts: dict[str, str],
        audience: dict[str, Any],
        *,
        button: dict[str, Any] | None = None,
        send_at: dt.datetime | None = None,
    ) -> Broadcast:
        """A draft notice (`check_texts`, `check_audience`, `check_button` give the
        shapes; `send_at` naive UTC, None: as soon as it is confirmed). Raises
        `BroadcastInvalid`."""
        broadcast = Broadcast(
            created_by=created_by,
            texts=check_texts(texts),
            audience=check_audience(audience),
            button=check_button(button),
            send_at=send_at,
            status="draft",
            version=1,
            created_at=utcnow(),
        )
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def revise(
        self,
        broadcast: Broadcast | int,
        version: int,
        *,
        texts: dict[str, str] | None = None,
        audience: dict[str, Any] | None = None,
        button: dict[str, Any] | None = None,
        clear_button: bool = False,
        send_at: dt.datetime | None = None,
    ) -> bool:
        """Change a draft (only what is given), if it is still a draft at `version`;
        False otherwise (another staff member changed or confirmed it). Raises
        `BroadcastInvalid`."""
        values: dict[str, Any] = {}
        if texts is not None:
            values["texts"] = check_texts(texts)
        if audience is not None:
            values["audience"] = check_audience(audience)
        if button is not None or clear_button:
            values["button"] = check_button(button)
        if send_at is not None:
            values["send_at"] = send_at
        return await self._move(broadcast, version, ("draft",), **values)

    async def confirm(
        self, broadcast: Broadcast | int, version: int, *, send_at: dt.datetime | None = None
    ) -> bool:
        """Queue a draft for sending, at `send_at` (naive UTC) if given, else at its own
        `send_at` or at once. One conditional UPDATE on (status, version): True for the
        one confirmation that counts, False for a second one (or a draft changed since
        `version`). The deliveries are written when it is due (`enqueue`, by the
        broadcaster), to the audience as it is then."""
        values: dict[str, Any] = {"status": "queued"}
        if send_at is not None:
            values["send_at"] = send_at
        return await self._move(broadcast, version, ("draft",), **values)

    async def cancel(self, broadcast: Broadcast | int) -> bool:
        """Stop a draft, queued or sending broadcast: nothing more of it is claimed (its
        pending deliveries become `cancelled`; the few already being sent finish and are
        counted). False when it was done or cancelled already."""
        result = await self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == id_of(broadcast),
                Broadcast.status.in_(("draft", "queued", "sending")),
            )
            .values(
                status="cancelled",
                finished_at=utcnow(),
                version=Broadcast.version + 1,
                claim=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return False
        await self.session.execute(
            update(BroadcastDelivery)
            .where(
                BroadcastDelivery.broadcast_id == id_of(broadcast),
                BroadcastDelivery.status == "pending",
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        return True

    async def progress(self, broadcast: Broadcast | int, rate: float = 25.0) -> Progress | None:
        """Where the broadcast stands (`Progress`); None for no such broadcast. `rate`:
        messages a second, for the time left."""
        row = await self.get(broadcast)
        if row is None:
            return None
        by_status = dict(
            (
                await self.session.execute(
                    select(BroadcastDelivery.status, func.count())
                    .where(
                        BroadcastDelivery.broadcast_id == row.id,
                        BroadcastDelivery.status.in_((*LEFT, "cancelled")),
                    )
                    .group_by(BroadcastDelivery.status)
                )
            ).all()
        )
        left = sum(by_status.get(s, 0) for s in LEFT)
        if row.status in ("draft", "queued"):  # not written yet: the audience is not known
            left = 0
        return Progress(
            status=row.status,
            total=row.total,
            sent=row.sent,
            failed=row.failed,
            unreachable=row.unreachable,
            not_reachable_wechat=row.not_reachable_wechat,
            skipped_opted_out=row.skipped_opted_out,
            left=left,
            cancelled=by_status.get("cancelled", 0),
            seconds_left=left / rate if rate > 0 and row.status == "sending" else 0.0,
        )

    async def recent(self, limit: int = 10, *, created_by: str | None = None) -> list[Broadcast]:
        """The latest broadcasts, newest first, as they are now (`created_by`: only
        those this staff member wrote)."""
        query = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
        if created_by is not None:
            query = query.where(Broadcast.created_by == created_by)
        rows = await self.session.scalars(query.execution_options(populate_existing=True))
        return list(rows)

    def audit(
        self, broadcast: Broadcast | int, actor: str, action: str, before: dict, after: dict
    ) -> None:
        """One audit entry on `broadcast:<id>`: who (`actor`, a platform key), what
        (`action`: `broadcast:confirm`...), the values before and after."""
        self.session.add(
            AuditEntry(
                subject=f"broadcast:{id_of(broadcast)}",
                actor=actor,
                action=action,
                before=before,
                after=after,
            )
        )

    async def _move(
        self, broadcast: Broadcast | int, version: int, before: Sequence[str], **values: Any
    ) -> bool:
        result = await self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == id_of(broadcast),
                Broadcast.version == version,
                Broadcast.status.in_(before),
            )
            .values(version=Broadcast.version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1
