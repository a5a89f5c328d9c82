"""Commands that work from any state, and the buttons that go with them.

/start [payload]  greet, or go home (a deep link is kept through onboarding); in the
                  middle of a form it asks first
/menu             the main menu (or the onboarding step not yet done)
/help             what Haoxin can do, then the current question again
/cancel           drop the form being filled in, back to the main menu
/language         pick a language, then the current question again
(/privacy and /delete_me live in handlers/privacy.py)
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.menus import home_state
from handlers.onboarding import (
    begin,
    deep_link_payload,
    language_buttons,
    onboarded,
    open_home,
)
from handlers.router import Invalid, Replies, Router
from handlers.staff import is_staff
from locales import LANGUAGES, language_name, translator

router = Router(__name__)


CONFIRM_RESTART = router.state("CONFIRM_RESTART")


@router.command("start")
async def start(ctx: Ctx, payload: str) -> Replies:
    """Begin again; in the middle of a form (a step that asks for personal data, where
    she has agreed and is typing answers) ask first. Only a deep link is kept of what
    follows /start (`deep_link_payload`): anything else could be personal."""
    spec = ctx.flows.states.get(ctx.user.state)
    if spec is not None and spec.personal:
        kept = deep_link_payload(ctx, payload) or ""
        ctx.remember(restart={"payload": kept, "back_to": ctx.user.state})
        return await ctx.goto(CONFIRM_RESTART)
    ctx.forget_form()
    return await begin(ctx, payload)


@router.prompt(CONFIRM_RESTART)
async def ask_restart(ctx: Ctx) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _("You are filling in a form. Start again and drop what you have typed in it?"),
            [ctx.button(_("↩ No, go on with the form"), "resume")],
            [ctx.button(_("🔄 Yes, start again"), "restart")],
        )
    ]


@router.button(CONFIRM_RESTART, "resume")
async def resume(ctx: Ctx, _arg: str) -> Replies:
    back_to = (ctx.form.get("restart") or {}).get("back_to") or ""
    ctx.user.form = {k: v for k, v in ctx.form.items() if k != "restart"}
    return await ctx.goto(back_to)


@router.button(CONFIRM_RESTART, "restart")
async def restart(ctx: Ctx, _arg: str) -> Replies:
    payload = (ctx.form.get("restart") or {}).get("payload") or ""
    ctx.forget_form()
    return await begin(ctx, payload)


@router.command("menu")
async def menu(ctx: Ctx, _arg: str) -> Replies:
    if not onboarded(ctx) and not is_staff(ctx):  # staff by invite: her menu is the staff's
        return [ctx.reply(ctx._("First, let's finish getting started.")), *await ctx.ask()]
    ctx.forget_form()
    return await ctx.goto(home_state(ctx))


@router.command("help")
async def help_(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    text = _(
        "How to use Haoxin:\n"
        "• Tap the buttons under my messages (on WeChat, type the number).\n"
        "• /start – begin again from the welcome\n"
        "• /menu – the main menu\n"
        "• /cancel – stop what you are filling in\n"
        "• /language – 简体中文 / 廣東話 / English\n"
        "• /verify CODE – check a worker's credential\n"
        "• /staff CODE – join as staff of a training base (a code from the programme "
        "office)\n"
        "• /notices – turn programme notices off or on\n"
        "• /privacy – what we keep about you\n"
        "• /delete_me – delete your data\n"
        "• /help – this list"
    )
    text += "\n" + _("• /ask QUESTION – ask a question in your own words (/ask alone: all topics)")
    if is_staff(ctx):  # staff's own commands, listed to staff only (each asks again)
        staff = _("• /broadcast – write a programme notice, or follow one sent")
        text += "\n" + _("For staff:") + "\n" + staff
    return [ctx.reply(text), *await ctx.ask()]


@router.command("cancel")
async def cancel(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    if not onboarded(ctx):
        return [ctx.reply(_("There is nothing to cancel.")), *await ctx.ask()]
    ctx.forget_form()
    return [
        ctx.reply(_("Cancelled. Nothing from that form was kept.")),
        *await ctx.goto(home_state(ctx)),
    ]


@router.command("language")
async def language(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    return [
        ctx.reply(
            _("Choose your language:"), language_buttons(ctx), [ctx.button(_("◀ Back"), "back")]
        )
    ]


@router.action("language")
async def language_button(ctx: Ctx, arg: str) -> Replies:
    return await language(ctx, arg)


@router.action("lang")
async def set_language(ctx: Ctx, code: str) -> Replies:
    if code not in LANGUAGES:
        raise Invalid(ctx._("I don't recognise that button."))
    ctx.user.lang = code
    ctx._ = translator(code)
    return [
        ctx.reply(ctx._("Language: {name}", name=language_name(code))),
        *await ctx.ask(),
    ]


@router.action("back")
async def back(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.ask()


@router.action("home")
async def home(ctx: Ctx, _arg: str) -> Replies:
    if not onboarded(ctx):
        return await ctx.ask()
    ctx.forget_form()
    return await open_home(ctx)
