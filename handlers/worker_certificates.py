"""Part 9 of the worker profile: her certificates, each with its photo.

    WP_CERTS ─➕─▶ WP_CERT_KIND ▶ WP_CERT_NUMBER ▶ WP_CERT_ISSUER ▶ WP_CERT_DATE
        ▶ WP_CERT_PHOTO ▶ added, WP_CERTS
    WP_CERTS ─a certificate─▶ WP_CERT_SHOW ─┬─ 📷 ─▶ WP_CERT_PHOTO ▶ WP_CERT_SHOW
                                            └─ 🗑 removed, WP_CERTS

A certificate being described waits in her form (`cert`) until its photo is sent or
skipped, then is added whole; "✖ Cancel" forgets it. A photo is kept only as an image
(`storage.files`): only she and programme staff see it. Changing a verified
certificate sends it back to staff. The walk itself is `handlers.worker_form`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from handlers.context import Ctx
from handlers.events import Attachment
from handlers.replies import Button
from handlers.router import Invalid, Replies
from handlers.typed_values import terms_in
from handlers.worker_form import (
    WP_CERT_DATE,
    WP_CERT_ISSUER,
    WP_CERT_KIND,
    WP_CERT_NUMBER,
    WP_CERT_PHOTO,
    WP_CERT_SHOW,
    WP_CERTS,
    drop_from_form,
    finish,
    heading,
    her_form,
    her_profile,
    nav,
    recheck_note,
    router,
    set_in_form,
    short_text,
    typed_date,
)
from handlers.worker_toggles import done_button
from storage.models import WorkerProfile
from storage.vocab import CERTIFICATES

log = logging.getLogger(__name__)

MAX_CERTIFICATES = 10


def cert_name(ctx: Ctx, kind: str) -> str:
    """A certificate's kind by its label in her language."""
    term = CERTIFICATES.get(kind)
    return ctx._(term.label) if term else kind


@router.prompt(WP_CERTS)
async def ask_certs(ctx: Ctx) -> Replies:
    _ = ctx._
    profile = await her_profile(ctx)
    certs = list(profile.certificates)
    if certs:
        text = _("Your certificates. Tap one to see it, or add another:")
    else:
        text = _(
            "Do you have certificates (maternity nurse, infant carer, health "
            "certificate…)? Add each one, or skip this."
        )
    rows = [
        [
            ctx.button(
                f"📄 {i}. {cert_name(ctx, c.kind)}" + (" 📷" if c.photo else ""), "cert", i - 1
            )
        ]
        for i, c in enumerate(certs, 1)
    ]
    if len(certs) < MAX_CERTIFICATES:
        label = _("➕ Add another certificate") if certs else _("➕ Add a certificate")
        rows.append([ctx.button(label, "add_cert")])
    rows.append(done_button(ctx))
    return [ctx.reply(heading(ctx, WP_CERTS, text), *rows, *nav(ctx))]


@router.button(WP_CERTS, "add_cert")
async def add_cert(ctx: Ctx, _arg: str) -> Replies:
    profile = await her_profile(ctx)
    if len(profile.certificates) >= MAX_CERTIFICATES:
        raise Invalid(ctx._("You have {most} certificates already.", most=MAX_CERTIFICATES))
    set_in_form(ctx, cert={})
    return await ctx.goto(WP_CERT_KIND)


@router.button(WP_CERTS, "cert")
async def open_cert(ctx: Ctx, arg: str) -> Replies:
    profile = await her_profile(ctx)
    if not arg.isdecimal() or int(arg) >= len(profile.certificates):
        raise Invalid(ctx._("I don't recognise that button."))
    set_in_form(ctx, cert_shown=profile.certificates[int(arg)].id)
    return await ctx.goto(WP_CERT_SHOW)


@router.button(WP_CERTS, "done")
async def certs_done(ctx: Ctx, _arg: str) -> Replies:
    drop_from_form(ctx, "cert", "cert_shown")
    return await finish(ctx, "certificates")


async def _shown_cert(ctx: Ctx) -> tuple[WorkerProfile, Any]:
    """The certificate of hers this screen is about (by the id kept in her form, found
    among her own certificates only)."""
    profile = await her_profile(ctx)
    shown = her_form(ctx).get("cert_shown")
    cert = next((c for c in profile.certificates if c.id == shown), None)
    if cert is None:
        raise Invalid(ctx._("That certificate is no longer there."))
    return profile, cert


@router.prompt(WP_CERT_SHOW)
async def show_cert(ctx: Ctx) -> Replies:
    _ = ctx._
    try:
        _mine, cert = await _shown_cert(ctx)
    except Invalid as gone:
        return [ctx.reply(gone.message), *await ctx.goto(WP_CERTS)]
    lines = [
        "📄 " + cert_name(ctx, cert.kind),
        _("Number: {value}", value=cert.number or "—"),
        _("Issued by: {value}", value=cert.issuer or "—"),
        _("Date issued: {value}", value=_.date(cert.issued_on) if cert.issued_on else "—"),
        _("Photo: sent (only you and programme staff see it)") if cert.photo else _("Photo: none"),
    ]
    rows = [
        [ctx.button(_("📷 Send a new photo") if cert.photo else _("📷 Add a photo"), "new_photo")],
        [ctx.button(_("🗑 Remove this certificate"), "remove_cert")],
        [ctx.button(_("◀ Back"), "back_certs")],
    ]
    return [ctx.reply("\n".join(lines), *rows, photo=cert.photo or None)]


router.goes("back_certs", WP_CERTS, WP_CERT_SHOW, WP_CERT_KIND)


@router.button(WP_CERT_SHOW, "new_photo")
async def new_photo(ctx: Ctx, _arg: str) -> Replies:
    _mine, cert = await _shown_cert(ctx)
    set_in_form(ctx, cert={"replace": cert.id})
    return await ctx.goto(WP_CERT_PHOTO)


@router.button(WP_CERT_SHOW, "remove_cert")
async def remove_cert(ctx: Ctx, _arg: str) -> Replies:
    profile, cert = await _shown_cert(ctx)
    photo = await ctx.repos.workers.remove_certificate(profile, cert.id)
    if photo:
        await ctx.repos.files.remove(photo)
    drop_from_form(ctx, "cert_shown")
    return [ctx.reply(ctx._("Certificate removed.")), *await ctx.goto(WP_CERTS)]


def _cert(ctx: Ctx) -> dict[str, Any]:
    return dict(her_form(ctx).get("cert") or {})


def _cert_rows(ctx: Ctx, back: str, keep: str | None = None) -> list[list[Button]]:
    _ = ctx._
    rows = []
    if keep:
        rows.append([ctx.button(_("Keep: {answer}", answer=keep), "keep")])
    rows.append([ctx.button(_("◀ Back"), back), ctx.button(_("✖ Cancel"), "cancel_cert")])
    return rows


async def cancel_cert(ctx: Ctx, _arg: str) -> Replies:
    drop_from_form(ctx, "cert")
    return [ctx.reply(ctx._("That certificate was not added.")), *await ctx.goto(WP_CERTS)]


for _state in (WP_CERT_NUMBER, WP_CERT_ISSUER, WP_CERT_DATE, WP_CERT_PHOTO):
    router.button(_state, "cancel_cert")(cancel_cert)


@router.prompt(WP_CERT_KIND)
async def ask_cert_kind(ctx: Ctx) -> Replies:
    _ = ctx._
    rows = [[ctx.button(_(t.label), "cert_kind", t.id)] for t in CERTIFICATES]
    return [
        ctx.reply(_("Which certificate is it?"), *rows, [ctx.button(_("◀ Back"), "back_certs")])
    ]


async def _cert_kind(ctx: Ctx, kind: str) -> Replies:
    set_in_form(ctx, cert={**_cert(ctx), "kind": kind})
    _drop_replace(ctx)
    return await ctx.goto(WP_CERT_NUMBER)


def _drop_replace(ctx: Ctx) -> None:
    cert = _cert(ctx)
    cert.pop("replace", None)
    set_in_form(ctx, cert=cert)


@router.button(WP_CERT_KIND, "cert_kind")
async def cert_kind(ctx: Ctx, arg: str) -> Replies:
    if CERTIFICATES.get(arg) is None:
        raise Invalid(ctx._("I don't recognise that button."))
    return await _cert_kind(ctx, arg)


@router.text(WP_CERT_KIND)
async def cert_kind_typed(ctx: Ctx, text: str) -> Replies:
    found = terms_in(CERTIFICATES, list(CERTIFICATES), text)
    if len(found) != 1:
        raise Invalid(ctx._("Please tap the kind of certificate."))
    return await _cert_kind(ctx, found[0].id)


@router.prompt(WP_CERT_NUMBER)
async def ask_cert_number(ctx: Ctx) -> Replies:
    cert = _cert(ctx)
    text = ctx._(
        "{certificate}: type its number, as printed on it.",
        certificate=cert_name(ctx, cert.get("kind", "")),
    )
    return [ctx.reply(text, *_cert_rows(ctx, "back_cert_kind", cert.get("number")))]


@router.text(WP_CERT_NUMBER)
async def got_cert_number(ctx: Ctx, text: str) -> Replies:
    number = short_text(ctx, text, 3, 40)
    set_in_form(ctx, cert={**_cert(ctx), "number": number})
    return await ctx.goto(WP_CERT_ISSUER)


@router.prompt(WP_CERT_ISSUER)
async def ask_cert_issuer(ctx: Ctx) -> Replies:
    text = ctx._("Who issued it? Type the name of the school or office on it.")
    return [ctx.reply(text, *_cert_rows(ctx, "back_cert_number", _cert(ctx).get("issuer")))]


@router.text(WP_CERT_ISSUER)
async def got_cert_issuer(ctx: Ctx, text: str) -> Replies:
    issuer = short_text(ctx, text, 2, 80)
    set_in_form(ctx, cert={**_cert(ctx), "issuer": issuer})
    return await ctx.goto(WP_CERT_DATE)


@router.prompt(WP_CERT_DATE)
async def ask_cert_date(ctx: Ctx) -> Replies:
    _ = ctx._
    cert = _cert(ctx)
    shown = _.date(dt.date.fromisoformat(cert["issued_on"])) if cert.get("issued_on") else None
    text = _("When was it issued? Type the date on it, like 2024-05-20.")
    rows = [[ctx.button(_("⏭ Skip the date"), "no_date")]]
    return [ctx.reply(text, *rows, *_cert_rows(ctx, "back_cert_issuer", shown))]


@router.text(WP_CERT_DATE)
async def got_cert_date(ctx: Ctx, text: str) -> Replies:
    day = typed_date(ctx, text, ahead=False)
    if day > ctx.today():
        raise Invalid(
            ctx._(
                "That is a certificate dated in the future. Please check the date on it "
                "and type it again."
            )
        )
    if day.year < 1950:
        raise Invalid(ctx._("Please check the year of that date."))
    set_in_form(ctx, cert={**_cert(ctx), "issued_on": day.isoformat()})
    return await ctx.goto(WP_CERT_PHOTO)


@router.button(WP_CERT_DATE, "no_date")
async def no_cert_date(ctx: Ctx, _arg: str) -> Replies:
    set_in_form(ctx, cert={**_cert(ctx), "issued_on": None})
    return await ctx.goto(WP_CERT_PHOTO)


router.goes("back_cert_kind", WP_CERT_KIND, WP_CERT_NUMBER)
router.goes("back_cert_number", WP_CERT_NUMBER, WP_CERT_ISSUER)
router.goes("back_cert_issuer", WP_CERT_ISSUER, WP_CERT_DATE)
router.goes("back_cert_date", WP_CERT_DATE, WP_CERT_PHOTO)


@router.button(WP_CERT_NUMBER, "keep")
async def keep_number(ctx: Ctx, _arg: str) -> Replies:
    if not _cert(ctx).get("number"):
        raise Invalid(ctx._("Please type the number."))
    return await ctx.goto(WP_CERT_ISSUER)


@router.button(WP_CERT_ISSUER, "keep")
async def keep_issuer(ctx: Ctx, _arg: str) -> Replies:
    if not _cert(ctx).get("issuer"):
        raise Invalid(ctx._("Please type who issued it."))
    return await ctx.goto(WP_CERT_DATE)


@router.button(WP_CERT_DATE, "keep")
async def keep_date(ctx: Ctx, _arg: str) -> Replies:
    return await ctx.goto(WP_CERT_PHOTO)


@router.prompt(WP_CERT_PHOTO)
async def ask_cert_photo(ctx: Ctx) -> Replies:
    _ = ctx._
    text = _(
        "Send a photo of the certificate (take a picture of it). Only you and programme "
        "staff will see it. No photo? Tap “Skip the photo”."
    )
    cert = _cert(ctx)
    back = "back_cert_date" if cert.get("replace") is None else "back_cert_show"
    rows = [
        [ctx.button(_("⏭ Skip the photo"), "no_photo")],
        [ctx.button(_("◀ Back"), back), ctx.button(_("✖ Cancel"), "cancel_cert")],
    ]
    return [ctx.reply(text, *rows)]


@router.button(WP_CERT_PHOTO, "back_cert_show")
async def photo_back_cert(ctx: Ctx, _arg: str) -> Replies:
    drop_from_form(ctx, "cert")
    return await ctx.goto(WP_CERT_SHOW)


@router.button(WP_CERT_PHOTO, "no_photo")
async def no_photo(ctx: Ctx, _arg: str) -> Replies:
    if _cert(ctx).get("replace") is not None:
        drop_from_form(ctx, "cert")
        return await ctx.goto(WP_CERT_SHOW)
    return await _keep_cert(ctx, None)


@router.file(WP_CERT_PHOTO)
async def got_cert_photo(ctx: Ctx, attachment: Attachment) -> Replies:
    from storage.files import FileRejected

    _ = ctx._
    if attachment.failed:
        raise Invalid(_("I couldn't download it, please send it again."))
    if attachment.too_big:
        raise Invalid(_too_big(ctx))
    if attachment.data is None:
        raise Invalid(_("I couldn't download it, please send it again."))
    try:
        name = await ctx.repos.files.keep_image(ctx.user, "certificate", attachment.data)
    except FileRejected as rejected:
        log.info("a certificate photo was refused: %s %s", rejected.reason, rejected.found)
        raise Invalid(_rejected(ctx, rejected.reason, rejected.found)) from None
    replace = _cert(ctx).get("replace")
    if replace is None:
        return await _keep_cert(ctx, name)
    profile = await her_profile(ctx)
    cert = next((c for c in profile.certificates if c.id == replace), None)
    if cert is None:
        await ctx.repos.files.remove(name)
        drop_from_form(ctx, "cert")
        raise Invalid(_("That certificate is no longer there."))
    old = cert.photo
    await ctx.repos.workers.edit_certificate(profile, cert.id, photo=name)
    if old:
        await ctx.repos.files.remove(old)
    drop_from_form(ctx, "cert")
    notes = [_("📷 Photo saved.")]
    if profile.status in ("verified", "suspended"):
        notes.append(recheck_note(ctx, "certificate"))
    return [ctx.reply("\n".join(notes)), *await ctx.goto(WP_CERT_SHOW)]


def _too_big(ctx: Ctx) -> str:
    return ctx._(
        "That file is over 5 MB. Please send a smaller photo (an ordinary phone photo is fine)."
    )


def _rejected(ctx: Ctx, reason: str, found: str) -> str:
    """Why a photo was refused, in words she can act on."""
    _ = ctx._
    if reason == "too_big":
        return _too_big(ctx)
    if reason == "not_image" and found == "pdf":
        return _(
            "That is a PDF, not a photo. Please send a photo (take a picture of the certificate)."
        )
    if reason == "not_image":
        return _("That is not a photo. Please send a photo (take a picture of the certificate).")
    if reason == "too_many_pixels":
        return _("That picture is too large to open. Please send an ordinary phone photo.")
    return _(
        "I can't open that picture: it may be damaged, or not really a photo. Please take "
        "the photo again and send it."
    )


async def _keep_cert(ctx: Ctx, photo: str | None) -> Replies:
    """The certificate she described, added to her profile (with its photo, if any)."""
    _ = ctx._
    cert = _cert(ctx)
    if not cert.get("kind") or not cert.get("number") or not cert.get("issuer"):
        return await ctx.goto(WP_CERT_KIND)
    profile = await her_profile(ctx)
    issued = dt.date.fromisoformat(cert["issued_on"]) if cert.get("issued_on") else None
    await ctx.repos.workers.add_certificate(
        profile, cert["kind"], cert["number"], cert["issuer"], issued, photo
    )
    drop_from_form(ctx, "cert")
    notes = [_("📄 Certificate added.")]
    if profile.status in ("verified", "suspended"):
        notes.append(recheck_note(ctx, "certificate"))
    return [ctx.reply("\n".join(notes)), *await ctx.goto(WP_CERTS)]
