"""Her worker profile: its home, what households will see, sending it for checking,
pausing it and showing it to households. The guided parts are walked by
`handlers.worker_form`, their screens in `handlers.worker_about`, `handlers.worker_offer`,
`handlers.worker_certificates` and `handlers.worker_private` (all on this same router).

    SEEKER_MENU ─🪪 My worker profile─▶ (PRIVACY, the first time) ▶ WORKER_PROFILE
    WORKER_PROFILE ─┬─ make / fill in what is missing ─▶ the parts, one after another ▶ WP_PREVIEW
                    ├─ 👀 see it as a household does ─▶ WP_PREVIEW ─📤 send─▶ submitted
                    ├─ ✏ edit ─▶ WP_EDIT ─a part─▶ that part ▶ WORKER_PROFILE
                    ├─ 📤 send for checking (a draft, or when staff asked for changes)
                    ├─ ✍ answer the staff (asked for changes) ─▶ WP_ANSWER
                    ├─ ⏸ pause / ▶ resume
                    ├─ 👁 show to households ─▶ WP_SHARE ─yes─▶ shared │ 🙈 stop: hidden at once
                    └─ 🪪 my credential (once verified: `handlers.credential`)

Everything here acts on her own profile only (`WorkerRepo.of_user`): no button carries
a profile's id. Showing the profile to households is a transfer of her personal
information (PIPL art. 23): she is told who receives it and why before she agrees, and
withdrawing hides it at once.
"""

from __future__ import annotations

from handlers import typed, worker_form
from handlers.context import Ctx
from handlers.router import Invalid, Replies
from handlers.worker_card import load_card, profile_lines
from handlers.worker_form import MAX_ANSWER, PARTS, mine, missing, no_id_number, part_labels
from storage.models import WorkerProfile
from storage.workers import NotAllowed, health_valid, is_visible

router = worker_form.router  # one flow: the home here, the parts in `worker_form`

WORKER_PROFILE = router.state(worker_form.WORKER_PROFILE, personal=True)
WP_PREVIEW = router.state(worker_form.WP_PREVIEW, personal=True)
WP_EDIT = router.state(worker_form.WP_EDIT, personal=True)
WP_SHARE = router.state("WP_SHARE", personal=True)
WP_ANSWER = router.state("WP_ANSWER", personal=True)


def status_text(ctx: Ctx, profile: WorkerProfile) -> str:
    """Where her profile stands, in plain words."""
    _ = ctx._
    status = profile.status
    if status == "draft":
        return _("Status: draft. Only you can see it. When it is complete, send it for checking.")
    if status == "submitted":
        return _("Status: sent for checking, waiting for programme staff.")
    if status == "verified":
        text = "✅ " + _("Status: verified by the programme.")
        if profile.queued_at is not None:
            text += "\n⏳ " + _("Some changes are being checked by staff.")
        return text
    if status == "changes":
        text = "✏ " + _(
            "Status: staff asked for changes. Their reason: “{reason}”",
            reason=profile.reason or "—",
        )
        if profile.answer:
            text += "\n" + _("Your answer: “{answer}”", answer=profile.answer)
        return text
    if status == "rejected":
        return "⛔ " + _(
            "Status: not accepted by the programme. The reason: “{reason}”",
            reason=profile.reason or "—",
        )
    return "⛔ " + _(
        "Status: suspended by the programme. The reason: “{reason}”", reason=profile.reason or "—"
    )


def showing_text(ctx: Ctx, profile: WorkerProfile) -> str:
    """Whether households see her profile now, and if not, why."""
    _ = ctx._
    if profile.paused:
        return "⏸ " + _("Paused: households do not see you now.")
    if profile.shared_at is None:
        return "🙈 " + _("Not shown to households.")
    if is_visible(profile, ctx.today()):
        return "👁 " + _("Households looking for help can see your profile.")
    if profile.status == "verified" and not health_valid(profile, ctx.today()):
        return "👁 " + _(
            "You agreed to show it to households, but it is hidden until staff record a "
            "valid health check."
        )
    return "👁 " + _(
        "You agreed to show it to households: they will see it once the programme has verified it."
    )


@router.prompt(WORKER_PROFILE)
async def home(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await mine(ctx)
    main_menu = [ctx.button(_("◀ Main menu"), "home")]
    if profile is None:
        text = _(
            "A worker profile is your page in the programme: the work you do, your "
            "experience and your certificates, checked by programme staff. Households "
            "looking for help see it only when you agree, and only after it is checked."
        )
        return [ctx.reply(text, [ctx.button(_("✍ Make my worker profile"), "make")], main_menu)]
    lines = ["🪪 " + _("Your worker profile"), status_text(ctx, profile)]
    can_send = profile.status in ("draft", "changes")
    gaps = await missing(ctx, profile) if can_send else []
    if gaps:
        lines.append(_("Still missing: {what}.", what=_.join(what for _k, what in gaps)))
    if profile.status != "rejected":
        lines.append(showing_text(ctx, profile))
    rows = [[ctx.button(_("👀 See it as a household does"), "see")]]
    if profile.status != "rejected":
        rows.append([ctx.button(_("✏ Edit"), "edit")])
    if gaps:
        rows.append([ctx.button(_("▶ Fill in what is missing"), "fill")])
    if can_send:
        rows.append([ctx.button(_("📤 Send for checking"), "submit")])
    if profile.status == "changes":
        rows.append([ctx.button(_("✍ Answer the staff"), "answer")])
    if profile.status != "rejected":
        rows.append(
            [
                ctx.button(_("▶ Resume"), "resume")
                if profile.paused
                else ctx.button(_("⏸ Pause"), "pause"),
                ctx.button(_("🙈 Stop showing to households"), "unshare")
                if profile.shared_at
                else ctx.button(_("👁 Show to households"), "share"),
            ]
        )
    if profile.code:
        rows.append([ctx.button(_("🪪 My credential"), "credential")])
    return [ctx.reply("\n".join(lines), *rows, main_menu)]


async def _mine(ctx: Ctx) -> WorkerProfile:
    profile = await mine(ctx)
    if profile is None:
        raise Invalid(ctx._("You have no worker profile yet."))
    return profile


@router.button(WORKER_PROFILE, "make")
async def make(ctx: Ctx, _arg: str) -> Replies:
    _ = ctx._
    if await mine(ctx) is not None:  # made meanwhile (another device): just go on
        return await ctx.ask()
    await ctx.repos.workers.start(ctx.user)
    text = _(
        "Let's make your worker profile: {n} short parts. Each answer is saved at once, "
        "so you can stop and go on later.",
        n=len(PARTS),
    )
    return [ctx.reply(text), *await worker_form.begin(ctx, [key for key, _s in PARTS])]


@router.button(WORKER_PROFILE, "fill")
async def fill(ctx: Ctx, _arg: str) -> Replies:
    profile = await _mine(ctx)
    gaps = list(dict.fromkeys(key for key, _what in await missing(ctx, profile)))
    if not gaps:
        return [ctx.reply(ctx._("Nothing is missing.")), *await ctx.ask()]
    return await worker_form.begin(ctx, gaps)


router.goes("see", WP_PREVIEW, WORKER_PROFILE)
router.goes("edit", WP_EDIT, WORKER_PROFILE, WP_PREVIEW)
router.goes("back_profile", WORKER_PROFILE, WP_PREVIEW, WP_EDIT, WP_SHARE, WP_ANSWER)


# --- as a household sees it ------------------------------------------------------------
@router.prompt(WP_PREVIEW)
async def preview(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await mine(ctx)
    if profile is None:
        return await ctx.goto(WORKER_PROFILE)
    card = await load_card(ctx, profile)
    lines = [
        "👀 " + _("This is how households will see your profile:"),
        "",
        *profile_lines(ctx, card),
    ]
    if not is_visible(profile, ctx.today()):
        lines += ["", "🙈 " + _("For now households do not see it.")]
    rows = []
    if profile.status in ("draft", "changes"):
        rows.append([ctx.button(_("📤 Send for checking"), "submit")])
    if profile.status != "rejected":
        rows.append([ctx.button(_("✏ Edit"), "edit")])
    rows.append([ctx.button(_("◀ My profile"), "back_profile")])
    return [ctx.reply("\n".join(lines), *rows)]


# --- sending it for checking -------------------------------------------------------------
async def submit(ctx: Ctx, _arg: str) -> Replies:
    """Send her profile to staff, once it holds what they need to check it."""
    _ = ctx._
    profile = await _mine(ctx)
    if profile.status not in ("draft", "changes"):
        raise Invalid(_("Your profile is already with the programme staff."))
    gaps = await missing(ctx, profile)
    if gaps:
        raise Invalid(
            _(
                "Before it can be sent, please add: {what}. Tap “▶ Fill in what is missing”.",
                what=_.join(what for _k, what in gaps),
            )
        )
    try:
        await ctx.repos.workers.submit(profile)
    except NotAllowed:
        raise Invalid(_("Your profile is already with the programme staff.")) from None
    text = "📤 " + _(
        "Sent. Programme staff will check your profile; we will tell you here when they "
        "have. You can still see it and change it."
    )
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


router.button(WORKER_PROFILE, "submit")(submit)
router.button(WP_PREVIEW, "submit")(submit)


# --- choosing a part to change -----------------------------------------------------------
@router.prompt(WP_EDIT)
async def choose_part(ctx: Ctx) -> Replies:
    _ = ctx._
    if await mine(ctx) is None:
        return await ctx.goto(WORKER_PROFILE)
    labels = part_labels(ctx)
    buttons = [ctx.button(labels[key], "part", i) for i, (key, _s) in enumerate(PARTS)]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    back = [ctx.button(_("◀ My profile"), "back_profile")]
    return [ctx.reply(_("Which part do you want to change?"), *rows, back)]


@router.button(WP_EDIT, "part")
async def edit_part(ctx: Ctx, arg: str) -> Replies:
    if not arg.isdecimal() or int(arg) >= len(PARTS):
        raise Invalid(ctx._("I don't recognise that button."))
    await _mine(ctx)
    return await worker_form.open_part(ctx, PARTS[int(arg)][0])


# --- pausing ----------------------------------------------------------------------------
@router.button(WORKER_PROFILE, "pause")
async def pause(ctx: Ctx, _arg: str) -> Replies:
    profile = await _mine(ctx)
    await ctx.repos.workers.set_paused(profile, True)
    text = "⏸ " + ctx._("Paused: households will not see you until you resume.")
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


@router.button(WORKER_PROFILE, "resume")
async def resume(ctx: Ctx, _arg: str) -> Replies:
    profile = await _mine(ctx)
    await ctx.repos.workers.set_paused(profile, False)
    text = "▶ " + ctx._("Resumed: you are available again.")
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


# --- showing it to households (PIPL art. 23) ---------------------------------------------
router.goes("share", WP_SHARE, WORKER_PROFILE)


@router.prompt(WP_SHARE)
async def ask_share(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await mine(ctx)
    if profile is None:
        return await ctx.goto(WORKER_PROFILE)
    lines = [
        _("Show your profile to households?"),
        _(
            "Who receives it: households looking for help through the Good Heart "
            "home-services programme."
        ),
        _("Why: so that they can choose you for work and ask you for an interview."),
        _(
            "What they see: your profile as in “👀 See it as a household does”; never your "
            "phone number, your ID number or your address."
        ),
        _("You can stop this at any time: your profile is then hidden at once."),
    ]
    if profile.status != "verified" or not health_valid(profile, ctx.today()):
        lines.append(
            _(
                "They will see it only once the programme has verified it and your health "
                "check is valid."
            )
        )
    return [
        ctx.reply(
            "\n".join(lines),
            [ctx.button(_("✅ Yes, show it to households"), "yes")],
            [ctx.button(_("◀ No, back"), "back_profile")],
        )
    ]


@router.button(WP_SHARE, "yes")
async def share(ctx: Ctx, _arg: str) -> Replies:
    profile = await _mine(ctx)
    await worker_form.edits(ctx).share(profile, True, ctx.user.key)
    text = "👁 " + ctx._("Done: your profile may be shown to households.")
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


@router.button(WORKER_PROFILE, "unshare")
async def unshare(ctx: Ctx, _arg: str) -> Replies:
    profile = await _mine(ctx)
    await worker_form.edits(ctx).share(profile, False, ctx.user.key)
    text = "🙈 " + ctx._("Hidden: households no longer see your profile.")
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


# --- answering the staff -----------------------------------------------------------------
router.goes("answer", WP_ANSWER, WORKER_PROFILE)


@router.prompt(WP_ANSWER)
async def ask_answer(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await mine(ctx)
    if profile is None or profile.status != "changes":
        return await ctx.goto(WORKER_PROFILE)
    text = _(
        "Staff asked: “{reason}”\nType your answer (at most {most} characters).",
        reason=profile.reason or "—",
        most=MAX_ANSWER,
    )
    return [ctx.reply(text, [ctx.button(_("◀ Back"), "back_profile")])]


@router.text(WP_ANSWER)
async def got_answer(ctx: Ctx, text: str) -> Replies:
    _ = ctx._
    profile = await _mine(ctx)
    if profile.status != "changes":
        return await ctx.goto(WORKER_PROFILE)
    answer = " ".join(text.split())
    no_id_number(ctx, answer)
    if len(answer) > MAX_ANSWER:
        raise Invalid(
            _(
                "That is {n} characters; please keep it to {most}. (What you wrote is still "
                "above: copy it and shorten it.)",
                n=len(answer),
                most=MAX_ANSWER,
            )
        )
    await ctx.repos.workers.answer(profile, answer)
    text = "✍ " + _("Your answer is saved. When your changes are done, tap “📤 Send for checking”.")
    return [ctx.reply(text), *await ctx.goto(WORKER_PROFILE)]


# typed text on these screens is never a search: an ID number typed by mistake must
# not be echoed back in "found nothing for …"
typed.no_search(WORKER_PROFILE, WP_PREVIEW, WP_EDIT, WP_SHARE)
