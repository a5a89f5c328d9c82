"""Staff write a programme notice (issue 12): its text, a button, who receives it; a
preview with the exact number of recipients per platform; confirmed now or for later.

    ADMIN_MENU, STAFF_MENU ─📣 Send a notice─▶ BC_LIST (or /broadcast): the latest notices
        ├─ ✏ New notice ─▶ BC_MODE: one text for every language, or one per language
        │    ─▶ BC_TEXT: the text (for all; or 简体中文, 廣東話, English in turn, each may be
        │       skipped): kept at once in the draft (a `Broadcast` row, status `draft`)
        │    ─▶ BC_BUTTON: a button that opens a course (BC_COURSES), a fair (BC_FAIRS), none
        │    ─▶ BC_WHO: everyone, job seekers, households, workers (BC_WORKERS: kinds of
        │       work, vetting states), a course's people (BC_COURSES), a fair's (BC_FAIRS);
        │       a base's staff: straight to her base's courses
        │    ─▶ BC_NARROW: counties, languages ─▶ BC_PREVIEW
        ├─ a draft ─▶ BC_PREVIEW: each language's text, the button, who in words, how many
        │    per platform (`audience_counts`)
        │    ├─ ✅ Send now ────────────────────────────────────▶ confirmed: BC_STATUS
        │    ├─ 🕒 Send at a set time ─▶ BC_WHEN (typed) ─▶ BC_PREVIEW ─✅─▶ BC_STATUS
        │    ├─ ✏ Change the text / who receives it / the button ─▶ that step, then back
        │    └─ ✖ Discard ─▶ BC_DISCARD ─yes─▶ BC_LIST
        └─ another notice ─▶ BC_STATUS: progress, 🔄 Refresh (in place), ⛔ Cancel sending

This module holds the states, the texts, the preview and confirming; the button and the
audience are `handlers.broadcast_audience`; the list, a set time, discarding, progress,
cancelling and the writer's final report `handlers.broadcast_progress` (both register on
this module's `router`).

Confirming names the draft's `version` the preview showed (`bc_v` in her form): of two
staff confirming one draft, or one confirming what another just changed, one wins
(`BroadcastRepo.confirm` is one conditional UPDATE) and the other is told and shown the
notice as it is now. Every confirm, cancel and discard is in the audit log
(`broadcast:<id>`). A training base's staff send only to people holding a place on a
course of her base (`broadcast_audience.allowed`, asked on the preview and on confirm)
and see only the notices she wrote. Every prompt and action asks `staff_only`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from handlers import typed
from handlers.context import Ctx
from handlers.lists import short
from handlers.replies import Button
from handlers.router import Handler, Invalid, Replies, Router
from handlers.staff import staff_base
from handlers.vetting import staff_only
from locales import language_name
from storage.broadcasts import (
    LANGUAGES,
    MAX_TEXT,
    BroadcastInvalid,
    audience_counts,
    notice_length,
    text_for,
)
from storage.models import Broadcast, utcnow

log = logging.getLogger(__name__)

router = Router(__name__)

BC_LIST = router.state("BC_LIST", staff=True)
BC_MODE = router.state("BC_MODE", staff=True)
BC_TEXT = router.state("BC_TEXT", staff=True, max_input=3 * MAX_TEXT)
BC_BUTTON = router.state("BC_BUTTON", staff=True)
BC_COURSES = router.state("BC_COURSES", staff=True)
BC_FAIRS = router.state("BC_FAIRS", staff=True)
BC_WHO = router.state("BC_WHO", staff=True)
BC_WORKERS = router.state("BC_WORKERS", staff=True)
BC_NARROW = router.state("BC_NARROW", staff=True)
BC_PREVIEW = router.state("BC_PREVIEW", staff=True)
BC_WHEN = router.state("BC_WHEN", staff=True)
BC_DISCARD = router.state("BC_DISCARD", staff=True)
BC_STATUS = router.state("BC_STATUS", staff=True)
BC_CANCEL = router.state("BC_CANCEL", staff=True)

typed.no_search(
    BC_LIST, BC_MODE, BC_BUTTON, BC_COURSES, BC_FAIRS, BC_WHO, BC_WORKERS, BC_NARROW,
    BC_PREVIEW, BC_DISCARD, BC_STATUS, BC_CANCEL,
)  # fmt: skip

#: characters of each language's text shown on the preview
PREVIEW_CHARS = 160
#: the languages asked in turn for "a text per language"
STEPS = ("all", *LANGUAGES)


# --- what she may open ------------------------------------------------------------------
def may_see(ctx: Ctx, row: Broadcast) -> bool:
    """An admin any notice; a training base's staff the ones she wrote."""
    return staff_base(ctx) is None or row.created_by == ctx.user.key


async def notice(ctx: Ctx, ident: Any) -> Broadcast:
    """The notice `ident` (an id, or button data) if she may open it; else `Invalid`,
    back on the list."""
    row = None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdecimal() and len(ident) < 10):
        row = await ctx.repos.broadcasts.get(int(ident))
    if row is None or not may_see(ctx, row):
        ctx.user.state = BC_LIST
        raise Invalid(ctx._("That notice is not there, or not yours to open."))
    return row


def moved_on(ctx: Ctx, row: Broadcast) -> Invalid:
    """The draft on her screen was confirmed or discarded meanwhile: its progress."""
    ctx.remember(bc=None, bc_show=row.id)
    ctx.user.state = BC_STATUS
    return Invalid(
        ctx._(
            "This notice is no longer a draft: it was confirmed or discarded meanwhile (by "
            "you or by other staff), and nothing was done twice. Here is where it stands:"
        )
    )


async def draft(ctx: Ctx) -> Broadcast | None:
    """The draft she is writing (`bc` in her form), as it is now; None before its first
    text. `Invalid` when it is not hers to open or no longer a draft."""
    ident = ctx.form.get("bc")
    if ident is None:
        return None
    row = await notice(ctx, ident)
    if row.status != "draft":
        raise moved_on(ctx, row)
    return row


def refusal(ctx: Ctx, bad: BroadcastInvalid) -> str:
    """Why the repository refused a change, in words."""
    _ = ctx._
    if bad.reason == "too_long":
        return _("A notice can be at most {limit} characters.", limit=_.number(MAX_TEXT))
    if bad.reason == "empty_text":
        return _("The notice has no text. Please type it.")
    return _("That cannot be part of a notice. Please choose again.")


async def revise(
    ctx: Ctx, row: Broadcast, change: Callable[[Broadcast], dict[str, Any]]
) -> Broadcast:
    """Apply `change(draft)` (`BroadcastRepo.revise`'s keywords) to the draft; when other
    staff changed it since it was read, to the draft as it is now. Returns the draft as
    changed; `Invalid` when it moved on or cannot be written so."""
    repo = ctx.repos.broadcasts
    for _attempt in range(3):
        try:
            done = await repo.revise(row.id, row.version, **change(row))
        except BroadcastInvalid as bad:
            raise Invalid(refusal(ctx, bad)) from None
        fresh = await repo.get(row.id)
        if fresh is None:
            return await notice(ctx, row.id)  # raises: it is gone
        if done:
            return fresh
        if fresh.status != "draft":
            raise moved_on(ctx, fresh)
        row = fresh
    raise Invalid(ctx._("Other staff are changing this notice right now. Please try again."))


def audit(ctx: Ctx, row: Broadcast, action: str, before: dict, after: dict) -> None:
    """One audit entry on `broadcast:<id>` (who, when, what, before and after)."""
    ctx.repos.broadcasts.audit(row, ctx.user.key, action, before, after)


def staff_goes(action: str, target: str, *states: str) -> None:
    """`Router.goes`, asking `staff_only` first."""

    async def move(ctx: Ctx, _arg: str) -> Replies:
        return await ctx.goto(target)

    checked: Handler = staff_only(move)
    for state in states:
        router.button(state, action)(checked)


def stop_button(ctx: Ctx) -> list[Button]:
    return [ctx.button(ctx._("✖ Stop here (the draft is kept)"), "list")]


def back_to_preview(ctx: Ctx) -> list[Button]:
    """On a step reached from the preview: the way back to it."""
    if not ctx.form.get("bc_edit"):
        return []
    return [ctx.button(ctx._("◀ Back to the preview"), "preview")]


def status_words(ctx: Ctx, status: str) -> str:
    _ = ctx._
    names = {
        "draft": _("📝 draft"),
        "queued": _("🕒 waiting to be sent"),
        "sending": _("📤 being sent"),
        "done": _("✅ sent"),
        "cancelled": _("⛔ cancelled"),
    }
    return names.get(status, status)


def local_words(ctx: Ctx, utc: dt.datetime) -> str:
    """A naive UTC time as the programme's local date and time: `1 Dec 2026 09:00`."""
    local = ctx.options.local(utc)
    return f"{ctx._.date(local.date())} {ctx._.time(local)}"


def first_words(row: Broadcast, limit: int = 28) -> str:
    return short(" ".join(next(iter((row.texts or {}).values()), "").split()), limit)


# --- the text -------------------------------------------------------------------------------
@router.prompt(BC_MODE)
@staff_only
async def ask_mode(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "How should the notice read? One text that everyone reads, or a text for each "
        "language: people whose language has no text of its own read the {language} one "
        "(or the first there is).",
        language=language_name(LANGUAGES[0]),
    )
    return [
        ctx.reply(
            text,
            [ctx.button(_("🌐 One text for every language"), "mode", "all")],
            [ctx.button(_("🈶 A text per language"), "mode", "each")],
            back_to_preview(ctx),
            stop_button(ctx),
        )
    ]


@router.button(BC_MODE, "mode")
@staff_only
async def mode_chosen(ctx: Ctx, arg: str) -> Replies:
    if arg not in ("all", "each"):
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.remember(bc_lang="all" if arg == "all" else LANGUAGES[0])
    return await ctx.goto(BC_TEXT)


def _lang(ctx: Ctx) -> str:
    lang = ctx.form.get("bc_lang")
    return lang if lang in STEPS else "all"


@router.prompt(BC_TEXT)
@staff_only
async def ask_text(ctx: Ctx) -> Replies:
    _ = ctx._
    row = await draft(ctx)
    lang = _lang(ctx)
    texts = row.texts if row is not None else {}
    if lang == "all":
        head = _("Type the notice, as everyone will read it.")
    else:
        head = _(
            "Language {n} of {total}: type the notice for {language} readers.",
            n=LANGUAGES.index(lang) + 1,
            total=len(LANGUAGES),
            language=language_name(lang),
        )
    lines = [
        head,
        _(
            "At most {limit} characters. What you send is kept at once as a draft.",
            limit=_.number(MAX_TEXT),
        ),
    ]
    current = texts.get(lang)
    if current:
        lines += ["", _("Now:"), short(current, 600), "", _("Send a new text to replace it.")]
    rows = []
    if current:
        rows.append([ctx.button(_("Keep it ▶"), "next")])
        if lang != "all" and any(k != lang for k in texts):
            rows.append([ctx.button(_("🗑 No text for this language"), "drop")])
    elif lang != "all":
        rows.append([ctx.button(_("Skip this language ▶"), "next")])
    return [ctx.reply("\n".join(lines), *rows, back_to_preview(ctx), stop_button(ctx))]


def with_text(texts: dict[str, str], lang: str, text: str | None) -> dict[str, str]:
    """The texts with `lang`'s set (None: removed); `all` replaces every other one, and
    a language's own text replaces `all`. In the order of `LANGUAGES`."""
    if lang == "all":
        return {"all": text} if text else {}
    kept = {k: v for k, v in texts.items() if k in LANGUAGES and k != lang}
    if text:
        kept[lang] = text
    return {k: kept[k] for k in LANGUAGES if k in kept}


@router.text(BC_TEXT)
@staff_only
async def text_typed(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    if notice_length(text) > MAX_TEXT:  # counted as Telegram counts: an emoji is two
        raise Invalid(
            _(
                "That text is {n} characters long; a notice can be at most {limit}. Please "
                "shorten it and send it again. Nothing you wrote before has changed.",
                n=_.number(notice_length(text)),
                limit=_.number(MAX_TEXT),
            )
        )
    lang = _lang(ctx)
    row = await draft(ctx)
    if row is None:
        try:
            row = await ctx.repos.broadcasts.create(ctx.user.key, {lang: text}, {"who": "everyone"})
        except BroadcastInvalid as bad:
            raise Invalid(refusal(ctx, bad)) from None
        ctx.remember(bc=row.id)
        log.info("staff user %s started notice %s", ctx.user.id, row.id)
    else:
        await revise(ctx, row, lambda r: {"texts": with_text(r.texts or {}, lang, text)})
    return [ctx.reply("✅ " + _("Kept in the draft.")), *await _after_text(ctx)]


@router.button(BC_TEXT, "next")
@staff_only
async def text_next(ctx: Ctx, _arg: str) -> Replies:
    return await _after_text(ctx)


@router.button(BC_TEXT, "drop")
@staff_only
async def text_dropped(ctx: Ctx, _arg: str) -> Replies:
    row = await draft(ctx)
    lang = _lang(ctx)
    if row is None or not any(k != lang for k in row.texts or {}):
        raise Invalid(ctx._("A notice needs at least one text."))
    await revise(ctx, row, lambda r: {"texts": with_text(r.texts or {}, lang, None) or r.texts})
    return await _after_text(ctx)


async def _after_text(ctx: Ctx) -> Replies:
    """The next language's text, or (every one asked) the next step."""
    from handlers.broadcast_audience import after_texts

    lang = _lang(ctx)
    if lang != "all" and LANGUAGES.index(lang) + 1 < len(LANGUAGES):
        ctx.remember(bc_lang=LANGUAGES[LANGUAGES.index(lang) + 1])
        return await ctx.goto(BC_TEXT)
    row = await draft(ctx)
    if row is None or not row.texts:
        ctx.remember(bc_lang="all" if lang == "all" else LANGUAGES[0])
        raise Invalid(ctx._("A notice needs at least one text. Please type it."))
    return await after_texts(ctx)


# --- the preview -----------------------------------------------------------------------------
def text_lines(ctx: Ctx, row: Broadcast) -> list[str]:
    """Each language's text as its readers get it, cut short."""
    _ = ctx._
    texts = row.texts or {}
    if set(texts) == {"all"}:
        return [
            "🗣 " + _("Everyone reads:") + " " + short(" ".join(texts["all"].split()), PREVIEW_CHARS)
        ]
    first = next(iter(texts), "")
    lines = []
    for lang in LANGUAGES:
        body = short(" ".join(text_for(row, lang).split()), PREVIEW_CHARS)
        line = f"🗣 {language_name(lang)}: {body}"
        if lang not in texts:
            line += " " + _(
                "(no text of its own: they read the {language} one)", language=language_name(first)
            )
        lines.append(line)
    return lines


def chosen_time(ctx: Ctx) -> dt.datetime | None:
    """The time she set for it (naive UTC), if any."""
    value = ctx.form.get("bc_at")
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@router.prompt(BC_PREVIEW)
@staff_only
async def preview(ctx: Ctx) -> Replies:
    from handlers.broadcast_audience import (
        allowed,
        audience_state,
        audience_words,
        button_words,
        recipients_words,
    )

    _ = ctx._
    row = await draft(ctx)
    if row is None:
        ctx.user.state = BC_MODE
        raise Invalid(_("A notice needs at least one text. Please type it."))
    if not await allowed(ctx, row.audience):
        ctx.user.state = audience_state(ctx, row)
        raise Invalid(_("Please choose the course of your base whose people get the notice:"))
    ctx.remember(bc_v=row.version, bc_edit=True)
    counts = await audience_counts(ctx.repos.session, row.audience)
    reach = sum(n for p, n in counts.items() if p not in ("opted_out", "unreachable"))
    at = chosen_time(ctx)
    lines = ["📣 " + _("Notice #{id}, a draft. This is what will be sent:", id=row.id), ""]
    lines += text_lines(ctx, row)
    lines += ["", "🔘 " + await button_words(ctx, row.button)]
    lines.append("👥 " + _("To: {audience}", audience=await audience_words(ctx, row.audience)))
    lines += recipients_words(ctx, counts)
    if at is not None:
        lines.append(
            "🕒 "
            + _(
                "To be sent at {when} ({zone} time).",
                when=local_words(ctx, at),
                zone=ctx.options.timezone,
            )
        )
    rows: list[list[Button]] = []
    if not reach:
        lines.append(_("No one would receive it: please change who receives it."))
    elif at is not None:
        rows.append(
            [ctx.button(_("✅ Confirm: send at {when}", when=local_words(ctx, at)), "send_at")]
        )
        rows.append([ctx.button(_("🕒 Another time"), "when")])
        rows.append([ctx.button(_("✅ Send now instead"), "send")])
    else:
        rows.append([ctx.button(_("✅ Send now"), "send")])
        rows.append([ctx.button(_("🕒 Send at a set time"), "when")])
    rows += [
        [ctx.button(_("✏ Change the text"), "edit_text")],
        [ctx.button(_("✏ Change who receives it"), "edit_who")],
        [ctx.button(_("✏ Change the button"), "edit_button")],
        [ctx.button(_("✖ Discard"), "discard")],
        [ctx.button(_("◀ Notices"), "list")],
    ]
    return [ctx.reply("\n".join(lines), *rows)]


@router.button(BC_PREVIEW, "edit_text")
@staff_only
async def edit_text(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(BC_MODE)


@router.button(BC_PREVIEW, "edit_who")
@staff_only
async def edit_who(ctx: Ctx, _arg: str) -> Replies:
    from handlers.broadcast_audience import start_audience

    return await start_audience(ctx)


staff_goes("edit_button", BC_BUTTON, BC_PREVIEW)
staff_goes("discard", BC_DISCARD, BC_PREVIEW)
staff_goes("when", BC_WHEN, BC_PREVIEW)
staff_goes("preview", BC_PREVIEW, BC_MODE, BC_TEXT, BC_BUTTON, BC_WHO, BC_WHEN, BC_DISCARD)
staff_goes("list", BC_LIST, BC_MODE, BC_TEXT, BC_BUTTON, BC_COURSES, BC_FAIRS, BC_WHO)
staff_goes("list", BC_LIST, BC_WORKERS, BC_NARROW, BC_PREVIEW, BC_STATUS)


# --- sending: now or at a set time ---------------------------------------------------------------
@router.button(BC_PREVIEW, "send")
@staff_only
async def send_now(ctx: Ctx, _arg: str) -> Replies:
    return await _confirm(ctx, None)


@router.button(BC_PREVIEW, "send_at")
@staff_only
async def send_later(ctx: Ctx, _arg: str) -> Replies:
    at = chosen_time(ctx)
    if at is None or at <= utcnow():
        ctx.remember(bc_at=None)
        raise Invalid(ctx._("That time has passed. Please choose another, or send it now."))
    return await _confirm(ctx, at)


async def _confirm(ctx: Ctx, at: dt.datetime | None) -> Replies:
    """Queue the draft the preview showed (`bc_v`), once, whoever else confirms it."""
    from handlers.broadcast_audience import allowed

    _ = ctx._
    row = await draft(ctx)
    seen = ctx.form.get("bc_v")
    if row is None or not isinstance(seen, int):
        raise Invalid(_("Please check the preview, then confirm."))
    if not await allowed(ctx, row.audience):
        raise Invalid(
            _(
                "As staff of a training base, you send notices to the people signed up for a "
                "course of your base."
            )
        )
    counts = await audience_counts(ctx.repos.session, row.audience)
    if not sum(n for p, n in counts.items() if p not in ("opted_out", "unreachable")):
        raise Invalid(_("No one would receive it: please change who receives it."))
    if not await ctx.repos.broadcasts.confirm(row.id, seen, send_at=at):
        fresh = await ctx.repos.broadcasts.get(row.id)
        if fresh is None or fresh.status != "draft":
            raise moved_on(ctx, fresh or row)
        raise Invalid(
            _(
                "Other staff changed this notice after you opened it. Please check it again "
                "before you confirm:"
            )
        )
    audit(
        ctx,
        row,
        "broadcast:confirm",
        {"status": "draft", "version": seen},
        {
            "status": "queued",
            "send_at": at.isoformat() if at else None,
            "texts": sorted(row.texts or {}),
            "button": row.button,
            "audience": row.audience,
            "recipients": counts,
        },
    )
    log.info("staff user %s confirmed notice %s", ctx.user.id, row.id)
    ctx.remember(bc=None, bc_v=None, bc_at=None, bc_aud=None, bc_edit=False, bc_show=row.id)
    if at is None:
        done = _("✅ Confirmed: notice #{id} is being sent now.", id=row.id)
    else:
        done = _(
            "🕒 Confirmed: notice #{id} will be sent at {when}.",
            id=row.id,
            when=local_words(ctx, at),
        )
    return [ctx.reply(done), *await ctx.goto(BC_STATUS)]


# the button, audience and progress screens register on `router` as they load
from handlers import broadcast_audience, broadcast_progress  # noqa: E402, F401
