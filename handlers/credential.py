"""The credential: anyone checks a worker's code; she shows her card and forwards it.

    /verify CODE (from any state; before the privacy notice too: it is public) ──┐
    household menu "🪪 Check a credential" ──▶ VERIFY ──the code, typed──────────┤
    /start verify_<CODE> (the card's QR code; on first contact too) ─────────────┤
                                                                                 ▼
        the credential: valid or not, each check and when it was made, training,
        certificates, rating; nothing private (no phone, ID digits, address,
        certificate numbers or photos). Typing another code in VERIFY checks it.

    WORKER_PROFILE ──"🪪 My credential"──▶ her card as text, and as a picture (PNG, with
        a QR code that opens the check) to forward ──◀ Back──▶ WORKER_PROFILE

Codes cannot be guessed: 12 characters (60 bits, `storage.workers.CODE_ALPHABET`), and
a person may look up `LOOKUP_LIMIT` codes that are no one's an hour; then every look-up
is refused until the hour has passed, even of a right code, so codes cannot be tried
one after another. What is not a code's shape (a typo, a phone number) only asks again:
it could never find anyone, so it costs no try. A profile staff never verified has no
code and is never found.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from handlers.context import Ctx
from handlers.credential_image import CardText, render
from handlers.links import deep_link
from handlers.menus import home_state
from handlers.onboarding import GREETING, onboarded
from handlers.replies import Reply
from handlers.router import Invalid, Replies, Router
from handlers.worker_card import (
    MARKS,
    Card,
    credential_lines,
    kinds_line,
    load_card,
    status_line,
)
from handlers.worker_profile import WORKER_PROFILE
from storage.files import FileRejected
from storage.workers import health_valid, read_code, show_code

log = logging.getLogger(__name__)

router = Router(__name__)

VERIFY = router.state("VERIFY")

#: a code as people see it, for examples
EXAMPLE = "7K2M-9QPD-XW3A"


# --- checking a code ----------------------------------------------------------------
async def check_code(ctx: Ctx, text: str) -> list[str]:
    """The credential that `text` is the code of, as lines in the reader's language.

    Raises `Invalid` with the reason: out of tries (checked first, so that nothing is
    looked up then), not a code's shape (no try spent), or no credential has this code
    (a try spent: `WorkerRepo.lookup_failed`)."""
    _ = ctx._
    workers, who = ctx.repos.workers, ctx.user.key
    if await workers.lookups_left(who) <= 0:
        log.info("credential look-up refused: out of tries")
        again = await workers.next_lookup_at(who)
        raise Invalid(
            _(
                "Too many wrong codes. Please try again after {time}.",
                time=_.time(ctx.options.local(again)) if again else "—",
            )
        )
    code = read_code(text)
    if code is None:
        raise Invalid(
            _(
                "That is not a credential code: a code has 12 letters and digits, like "
                "{example}. Please check it and type it again.",
                example=EXAMPLE,
            )
        )
    profile = await workers.by_code(code)
    if profile is None:
        await workers.lookup_failed(who)
        log.info("credential look-up: no such code")
        raise Invalid(_("No credential has this code. Check it and try again."))
    log.info("credential look-up: worker %d", profile.id)
    return credential_lines(ctx, await load_card(ctx, profile), code=True)


def _result(ctx: Ctx, lines: list[str]) -> Reply:
    """The credential found, on the VERIFY screen: another code may be typed."""
    _ = ctx._
    text = "\n".join([*lines, "", _("To check another code, type it.")])
    return ctx.reply(text, [ctx.button(_("◀ Main menu"), "leave")])


@router.prompt(VERIFY)
async def ask_code(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "🪪 Check a worker's credential\n\n"
        "Type the code on her credential card (12 letters and digits, like {example}), "
        "or scan the card's QR code.\n\n"
        "A credential shows what the programme checked and when. Phone numbers, ID "
        "numbers and addresses are never shown on it.",
        example=EXAMPLE,
    )
    return [ctx.reply(text, [ctx.button(_("◀ Main menu"), "leave")])]


@router.text(VERIFY)
async def code_typed(ctx: Ctx, text: str) -> Replies:
    return [_result(ctx, await check_code(ctx, text))]


@router.button(VERIFY, "leave")
async def leave(ctx: Ctx, _arg: str) -> Replies:
    """Her main menu; the greeting for someone who came only to check a code."""
    return await ctx.goto(home_state(ctx) if onboarded(ctx) else GREETING)


@router.command("verify")
async def verify_command(ctx: Ctx, arg: str) -> Replies:
    """`/verify CODE` from anywhere: the answer, then where she was, asked again (a form
    she was filling in is kept). `/verify` alone asks for the code."""
    if not arg.strip():
        return await ctx.goto(VERIFY)
    lines = await check_code(ctx, arg)
    return [ctx.reply("\n".join(lines)), *await ctx.ask()]


@router.deep_link("verify")
async def verify_link(ctx: Ctx, code: str) -> Replies:
    """`/start verify_<CODE>`: the card's QR code (a Telegram link, a WeChat parameter
    QR code), also on first contact."""
    lines = await check_code(ctx, code)
    ctx.user.state = VERIFY
    return [_result(ctx, lines)]


# --- her own card -------------------------------------------------------------------
@router.button(WORKER_PROFILE, "credential")
async def my_credential(ctx: Ctx, _arg: str) -> Replies:
    """Her credential as text, and as a picture to forward once she has a code."""
    _ = ctx._
    profile = await ctx.repos.workers.of_user(ctx.user)
    if profile is None:
        raise Invalid(_("You have no worker profile yet."))
    card = await load_card(ctx, profile)
    back = [ctx.button(_("◀ Back"), "back")]
    if not profile.code:
        lines = credential_lines(ctx, card, code=False)
        note = _(
            "You get your credential card and its code once the programme has verified "
            "your profile."
        )
        return [ctx.reply("\n".join([*lines, "", note]), back)]
    note = _(
        "Forward this card to a household: they can check it by scanning its QR code or "
        "by sending /verify and the code to Haoxin."
    )
    text = "\n".join([*credential_lines(ctx, card), "", note])
    photo = await card_file(ctx, card)
    if ctx.event.platform == "wx":  # the account's own QR code for the check, too
        poster = _("A QR code that opens the check of your credential in this account:")
        return [Reply(text, photo=photo), ctx.reply(poster, back, poster=f"verify_{profile.code}")]
    return [ctx.reply(text, back, photo=photo)]


def card_text(ctx: Ctx, card: Card) -> CardText:
    """What her card picture says, in her language: the lines of `credential_lines`,
    each check's mark drawn rather than written (no emoji font is needed)."""
    _ = ctx._
    p = card.profile
    assert p.code is not None
    heading = _("Checked by the programme:")
    lines = credential_lines(ctx, card, code=False)
    body = lines[lines.index(heading) + 1 :] if heading in lines else []
    marks = {mark: kind for kind, mark in MARKS.items()} | {"⭐": "star"}
    items = []
    for line in body:
        if not line.strip():
            continue
        first, _sep, rest = line.partition(" ")
        items.append((marks[first], rest) if first in marks and rest else ("plain", line))
    code = show_code(p.code)
    link = deep_link(ctx, f"verify_{p.code}")
    if link:
        caption = _(
            "Scan the QR code, or send /verify {code} to Haoxin, to check this credential.",
            code=code,
        )
    else:
        caption = _("Send /verify {code} to Haoxin to check this credential.", code=code)
    status = status_line(ctx, card)
    return CardText(
        lang=_.lang,
        programme=_("Good Heart (好心) home-services programme"),
        title=_("Haoxin home-services credential"),
        name=p.name,
        kinds=kinds_line(ctx, p),
        status=status.partition(" ")[2] or status,
        tone=_tone(card),
        heading=heading,
        items=tuple(items),
        code_label=_("Verification code"),
        code=code,
        qr=link or f"/verify {code}",
        qr_caption=caption,
    )


def _tone(card: Card) -> str:
    """The colour of the card's status, as `status_line` words it."""
    p = card.profile
    if p.status == "verified":
        return "valid" if health_valid(p, card.today) else "expired"
    return "unverified" if p.verified_at is None else "stopped"


async def card_file(ctx: Ctx, card: Card) -> str | None:
    """Her card picture in the file store: drawn again when what it says changed (the
    previous picture is then removed), kept otherwise. None if it could not be kept."""
    files = ctx.repos.files
    text = card_text(ctx, card)
    digest = hashlib.sha256(repr(text).encode()).hexdigest()[:16]
    # Haoxin's own pictures are her only PNGs (photos she sends are kept as JPEG)
    mine = [n for n in await files.names_of(ctx.user.id) if n.endswith(".png")]
    kept = ctx.form.get("card") or {}
    if kept.get("digest") == digest and kept.get("name") in mine:
        return str(kept["name"])
    png = await asyncio.to_thread(render, text)
    try:
        name = await files.keep_png(ctx.user, "card", png)
    except FileRejected as rejected:
        log.warning("credential card not kept: %s", rejected.reason)
        return None
    for old in mine:
        await files.remove(old)
    ctx.remember(card={"name": name, "digest": digest})
    return name
