"""A help-desk answer made a catalogue entry (issue 13), on `handlers.help_desk`'s
router: what the catalogue says, everyone reads, so an admin writes it over first.

    DESK_TICKET ─📌 Add to the catalogue (admins; a staff reply given; once)─▶ DESK_FAQ:
        the question, written as anyone would ask it (her own words are shown, never
        taken as they are: they may hold her name or her story), then the answer (the
        last reply, to keep or write over) ─▶ ✅ Publish ─▶ `FaqRepo.save` (topic `more`)
          ├─ ✏ The question / ✏ The answer ─▶ typed again
          └─ ✖ Cancel ─▶ DESK_TICKET

A phone number, a WeChat ID, an ID number or curly brackets are refused in either. Two
admins publishing one ticket: `DeskRepo.claim_catalogue` lets one through.
"""

from __future__ import annotations

from typing import Any

from handlers.context import Ctx
from handlers.help_desk import DESK_TICKET, current, desk_only, may_catalogue, router
from handlers.router import Invalid, Replies
from storage.faq import MAX_ANSWER, MAX_QUESTION, FaqError
from storage.help_desk import ASKER
from storage.workers import holds_contact, holds_id_number

DESK_FAQ = router.state("DESK_FAQ", admin=True, max_input=MAX_ANSWER)
#: the topic of entries made at the help desk ("More questions" in ❓ Questions and help)
TOPIC = "more"


def _draft(ctx: Ctx) -> dict[str, Any]:
    found = ctx.form.get("desk_faq")
    return dict(found) if isinstance(found, dict) else {}


def _set(ctx: Ctx, **values: Any) -> None:
    ctx.remember(desk_faq={**_draft(ctx), **values})


def _checked(ctx: Ctx, text: str, most: int) -> str:
    _ = ctx._
    text = text.strip()
    if len(text) < 2:
        raise Invalid(_("Please write a few words."))
    if len(text) > most:
        raise Invalid(_("Please keep it to {most} characters.", most=most))
    if holds_contact(text) or holds_id_number(text):
        raise Invalid(
            _("Everyone will read this: please leave out phone numbers, WeChat IDs and ID numbers.")
        )
    if "{" in text or "}" in text:
        raise Invalid(_("Please leave out curly brackets."))
    return text


async def _ticket(ctx: Ctx) -> Any:
    """The ticket on her screen, if the catalogue action is still hers to take.
    Raises `Invalid` otherwise."""
    ticket = await current(ctx)
    if ticket.faq_key:
        raise Invalid(ctx._("It is in the catalogue already."))
    if not await may_catalogue(ctx, ticket):
        raise Invalid(ctx._("Only a programme admin adds to the catalogue, once staff replied."))
    return ticket


@router.button(DESK_TICKET, "desk_faq")
@desk_only
async def add_to_catalogue(ctx: Ctx, _arg: str) -> Replies:
    ticket = await _ticket(ctx)
    ctx.remember(desk_faq={"ticket": ticket.id})
    return await ctx.goto(DESK_FAQ)


@router.prompt(DESK_FAQ)
@desk_only
async def ask_entry(ctx: Ctx) -> Replies:
    _ = ctx._
    ticket = await _ticket(ctx)
    draft = _draft(ctx)
    question, answer = draft.get("question", ""), draft.get("answer", "")
    cancel = [ctx.button(_("✖ Cancel"), "desk_faq_cancel")]
    if not question or draft.get("editing") == "question":
        lines = [
            "📌 " + _("A new catalogue entry: everyone who asks it will read it."),
            _("Her words (never published as they are): “{text}”", text=ticket.question[:300]),
            "",
            _(
                "Type the question as anyone would ask it, without her name, her story, "
                "places or numbers (at most {most} characters):",
                most=MAX_QUESTION,
            ),
        ]
        return [ctx.reply("\n".join(lines), cancel)]
    if not answer or draft.get("editing") == "answer":
        reply = await ctx.repos.desk.last_staff_reply(ticket.id)
        lines = [_("Question: {text}", text=question), ""]
        if reply is not None:  # to copy from: it was written to her, and may name her
            lines += [_("The reply she got: “{text}”", text=reply.text[:1500]), ""]
        lines.append(
            _(
                "Type the answer everyone will read, without her name, address or anything "
                "about her (at most {most} characters):",
                most=MAX_ANSWER,
            )
        )
        return [ctx.reply("\n".join(lines), cancel)]
    lines = [
        "📌 " + _("Publish this in the catalogue?"),
        "",
        _("Question: {text}", text=question),
        _("Answer: {text}", text=answer),
    ]
    return [
        ctx.reply(
            "\n".join(lines),
            [ctx.button(_("✅ Publish"), "desk_faq_publish")],
            [
                ctx.button(_("✏ The question"), "desk_faq_edit", "question"),
                ctx.button(_("✏ The answer"), "desk_faq_edit", "answer"),
            ],
            cancel,
        )
    ]


@router.text(DESK_FAQ)
@desk_only
async def typed_entry(ctx: Ctx, text: str) -> Replies:
    await _ticket(ctx)
    draft = _draft(ctx)
    if not draft.get("question") or draft.get("editing") == "question":
        _set(ctx, question=_checked(ctx, text, MAX_QUESTION), editing="")
    else:
        _set(ctx, answer=_checked(ctx, text, MAX_ANSWER), editing="")
    return await ctx.ask()


@router.button(DESK_FAQ, "desk_faq_edit")
@desk_only
async def edit(ctx: Ctx, part: str) -> Replies:
    if part not in ("question", "answer"):
        raise Invalid(ctx._("I don't recognise that button."))
    _set(ctx, editing=part)
    return await ctx.ask()


@router.button(DESK_FAQ, "desk_faq_publish")
@desk_only
async def publish(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    ticket = await _ticket(ctx)
    draft = _draft(ctx)
    question = _checked(ctx, str(draft.get("question") or ""), MAX_QUESTION)
    answer = _checked(ctx, str(draft.get("answer") or ""), MAX_ANSWER)
    desk = ctx.repos.desk
    if not await desk.claim_catalogue(ticket.id):
        raise Invalid(_("It is in the catalogue already."))
    lang = (ticket.context or {}).get("lang") or "zh"
    try:
        entry = await ctx.repos.faq.save(
            key=None,
            topic=TOPIC,
            questions={lang: [question]},
            answers={lang: answer},
            source="desk",
            created_by=ctx.user.key,
        )
    except FaqError:
        await desk.unclaim_catalogue(ticket.id)
        raise Invalid(_("The catalogue cannot take this. Nothing was added.")) from None
    await desk.catalogued(ticket.id, ctx.user.key, entry.key)
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "desk_faq"}
    done = "📌 " + _(
        "Added to the catalogue as {key}: “{question}”. People who ask it get this answer.",
        key=entry.key,
        question=question,
    )
    return [ctx.reply(done), *await ctx.goto(DESK_TICKET)]


@router.button(DESK_FAQ, "desk_faq_cancel")
@desk_only
async def cancel(ctx: Ctx, _arg: str) -> Replies:
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "desk_faq"}
    return [ctx.reply(ctx._("Nothing was added.")), *await ctx.goto(DESK_TICKET)]


__all__ = ["ASKER", "DESK_FAQ"]
