"""For staff: the deep link and QR code of a course or a fair, for posters.

The link opens the course or fair directly (`/start course_3`), through onboarding if
needed. The QR code is sent as an image where the platform can show one. The role is
checked on every press, not only when the button was drawn.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.courses import COURSE_CARD
from handlers.fairs import FAIR_CARD
from handlers.replies import Reply
from handlers.router import Invalid, Replies, Router

router = Router(__name__)


def deep_link(ctx: Ctx, payload: str) -> str | None:
    """The Telegram link that opens `payload` (`course_3`), or None when the bot's
    username is unknown (HAOXIN_TELEGRAM_BOT unset, and not learnt from getMe)."""
    bot = ctx.options.telegram_bot
    return f"https://t.me/{bot}?start={payload}" if bot else None


async def _link(ctx: Ctx, kind: str, key: str) -> Replies:
    _ = ctx._
    if not ctx.is_admin:
        raise Invalid(_("That part is for programme staff only."))
    ident = int(ctx.form.get(key) or 0)
    payload = f"{kind}_{ident}"
    if ctx.event.platform == "wx":
        text = _(
            "Poster QR code for this page: open the link below, save the picture and print "
            "it. Scanning it follows the account and opens this page. (If no link follows, "
            "make a parameter QR code with the scene “{payload}” in the account's console.)",
            payload=payload,
        )
        return [Reply(text, poster=payload), *await ctx.ask()]
    link = deep_link(ctx, payload)
    wechat = _(
        "On WeChat, make a parameter QR code with the scene “{payload}” (公众号后台 or the "
        "qrcode/create API): scanning it follows the account and opens this page.",
        payload=payload,
    )
    if link is None:
        text = _(
            "There is no Telegram link for posters yet: Haoxin does not know the bot's "
            "username. Set HAOXIN_TELEGRAM_BOT to the username @BotFather gave the bot "
            "(without @) and restart; the link will then be "
            "https://t.me/<username>?start={payload}.",
            payload=payload,
        )
        return [Reply(f"{text}\n{wechat}"), *await ctx.ask()]
    text = _("Link for posters: {link}", link=link)
    return [Reply(f"{text}\n{wechat}", qr=link), *await ctx.ask()]


@router.button(COURSE_CARD, "qr")
async def course_link(ctx: Ctx, _arg: str) -> Replies:
    return await _link(ctx, "course", "course")


@router.button(FAIR_CARD, "qr")
async def fair_link(ctx: Ctx, _arg: str) -> Replies:
    return await _link(ctx, "fair", "fair")
