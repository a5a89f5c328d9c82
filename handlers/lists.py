"""Paged lists of buttons, shared by every flow that lists things (courses, fairs...).

A page shows PAGE_SIZE items; "◀ Earlier" / "Later ▶" edit the same message
(`replace=True`) rather than filling the chat.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.replies import Button, Reply

PAGE_SIZE = 5


def short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def page_reply(
    ctx: Ctx,
    text: str,
    items: list[tuple[str, str, int]],
    page: int,
    total: int,
    *,
    replace: bool = False,
    extra: list[list[Button]] | None = None,
) -> Reply:
    """`items` are (label, action, id); the pager's buttons use the `page` action."""
    _ = ctx._
    rows = [[ctx.button(short(label), action, ident)] for label, action, ident in items]
    pager = []
    if page > 0:
        pager.append(ctx.button(_("◀ Earlier"), "page", page - 1))
    if (page + 1) * PAGE_SIZE < total:
        pager.append(ctx.button(_("Later ▶"), "page", page + 1))
    if total > PAGE_SIZE:
        text += "\n" + _("Page {page} of {pages}", page=page + 1, pages=-(-total // PAGE_SIZE))
    return ctx.reply(text, *rows, pager, *(extra or []), replace=replace)


def page_number(arg: str) -> int:
    """A page number from button data; a forged one is just the first page."""
    return int(arg) if arg.isdecimal() and int(arg) < 10_000 else 0
