"""Paged lists of buttons, shared by every flow that lists things (courses, fairs...).

A page shows PAGE_SIZE items; "◀ Earlier" / "Later ▶" edit the same message
(`replace=True`) rather than filling the chat.

Choices from a fixed vocabulary (kinds of work, counties, where the jobs are) are shown
by their term, once however many spellings the data uses (`电白`, `电白区`): `choices`
groups the data's names; a choice's button carries its term's id, and the names it
stands for are kept in her form (`chosen` reads them back).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handlers.context import Ctx
from handlers.replies import Button, Reply
from handlers.router import Invalid
from storage.vocab import Vocabulary

PAGE_SIZE = 5


def short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choices(
    vocabulary: Vocabulary, names: Iterable[tuple[str, int]], *, in_vocabulary_order: bool
) -> list[dict[str, Any]]:
    """The data's names (with a count each) grouped by the term they stand for: each
    choice `{"id": term id or "", "names": [...], "n": count}`. In the vocabulary's order
    (then names it does not know, as met), or as met (a term where first met)."""
    found: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    for name, n in names:
        term = vocabulary.of_name(name)
        key = term.id if term else "\0" + name
        if key not in by_key:
            by_key[key] = {"id": term.id if term else "", "names": [], "n": 0}
            found.append(by_key[key])
        by_key[key]["names"].append(name)
        by_key[key]["n"] += n
    if in_vocabulary_order:
        rank = {t.id: i for i, t in enumerate(vocabulary)}
        found.sort(key=lambda c: rank.get(c["id"], len(rank)))  # stable: unknowns as met
    return found


def choice_buttons(
    ctx: Ctx, vocabulary: Vocabulary, found: list[dict[str, Any]], action: str, counted: bool
) -> list[list[Button]]:
    """One button a choice: its term's label in her language (a name the vocabulary does
    not know, as written), with its count; the data is the term's id (else its index)."""
    rows = []
    for i, choice in enumerate(found):
        label = ctx._.term(vocabulary, choice["names"][0])
        if counted:
            label = f"{label} ({choice['n']})"
        rows.append([ctx.button(label, action, choice["id"] or i)])
    return rows


def chosen(ctx: Ctx, found: list[dict[str, Any]], arg: str) -> dict[str, Any]:
    """The choice a button's data (a term's id, or an index) picks from those shown."""
    for i, choice in enumerate(found):
        if (choice["id"] and choice["id"] == arg) or (not choice["id"] and str(i) == arg):
            return choice
    raise Invalid(ctx._("I don't recognise that button."))


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
    rows = [[ctx.button(short(label, 60), action, ident)] for label, action, ident in items]
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
