"""The contract summary of a confirmed hire (issue 11): a message and a Word document.

    the household confirms the hire ─▶ `send_contract`: each party, in her language,
        gets the summary as a message and as a `.docx` she can open on her phone
    either party asks for it again ─▶ `contract_replies` (the hiring flow shows them)

What it says comes from the data both sides confirmed (`contract_terms`): the parties,
the service, the term, the wage, the trial and its fee, replacement terms, the worker's
health certificate and the emergency contact, in the model contract's order. The words
are one template per language, `locales/contract/<catalog folder>.txt` (`string.Template`
`$name` placeholders; lines starting `# ` are headings, `- ` list items); the values are
formatted in the reader's language (dates, money, vocabulary labels). Free text (names,
the address) is shown as written.

The document is each reader's own stored file (`FileRepo.keep_document`, purpose
`contract:<hire id>`): deleted with her data; asking again gives the same file while the
summary is the same. Its metadata names the programme as author and holds nothing
personal beyond the text itself; it is built the same, byte for byte, from the same text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import string
import zipfile
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handlers.context import Ctx, Options, outside
from handlers.replies import Reply
from handlers.router import Invalid
from locales import LANGUAGES, Translator
from storage.files import FileRejected
from storage.vocab import CITIES, COUNTIES, KINDS_OF_WORK, MODES, Vocabulary
from storage.workers import show_code

if TYPE_CHECKING:
    from storage.models import Hire
    from storage.repositories import Repos

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent.parent / "locales" / "contract"
#: days after the confirmation in which the household may ask for one free replacement
REPLACE_WITHIN_DAYS = 30
#: the document's author (its only metadata besides the title)
AUTHOR = "好心家政 Haoxin"
#: East Asian font of the document, a fallback named in its font table, and the
#: language tags of its text (Latin, East Asian), by our language code
_FONTS = {
    "zh": ("Microsoft YaHei", "Noto Sans CJK SC", "zh-CN", "zh-CN"),
    "yue": ("Microsoft JhengHei", "Noto Sans CJK TC", "zh-HK", "zh-HK"),
    "en": ("Microsoft YaHei", "Noto Sans CJK SC", "en-GB", "zh-CN"),
}
_LATIN_FONT = "Arial"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # every part's time in the zip: the same bytes each time


@dataclass(frozen=True)
class ContractTerms:
    """What a contract summary says, gathered once (`contract_terms`). Money in whole
    yuan; ids of the fixed vocabularies (`storage.vocab`); empty text when not given."""

    hire_id: int
    household_name: str
    household_phone: str
    worker_name: str
    worker_phone: str
    #: her credential's verification code as stored (`7K2M9QPDXW3A`), "" if none
    worker_code: str
    kind: str  # KINDS_OF_WORK id
    mode: str  # MODES id
    place: str  # COUNTIES or CITIES id
    address: str
    starts_on: dt.date
    ends_on: dt.date | None  # None: open-ended
    trial_days: int
    trial_fee: int  # yuan a day
    wage: int  # yuan a `wage_unit`
    wage_unit: str  # month | hour
    health_valid_until: dt.date | None
    office_phone: str
    #: the local day the hire was confirmed: the summary's date
    issued_on: dt.date

    def to_json(self) -> dict[str, Any]:
        """As kept on the hire (`Hire.terms`): dates as ISO text."""
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> ContractTerms:
        dates = {"starts_on", "ends_on", "health_valid_until", "issued_on"}
        return cls(
            **{
                k: dt.date.fromisoformat(v) if k in dates and v else v
                for k, v in kept.items()
                if k in cls.__dataclass_fields__
            }
        )


async def contract_terms(repos: Repos, hire: Hire, options: Options) -> ContractTerms:
    """The terms as both confirmed them: kept on the hire when it was confirmed
    (`Hire.terms`, so a later change of a phone or a name does not change the
    contract), else read now (`read_terms`). Raises LookupError when they were not kept
    and a party's account is gone."""
    if hire.terms:
        return ContractTerms.from_json(hire.terms)
    return await read_terms(repos, hire, options)


async def read_terms(repos: Repos, hire: Hire, options: Options) -> ContractTerms:
    """The terms of `hire`, read through the repositories: both people's names and
    phones (`Profile`; her name as on her worker profile), the request's address, her
    health check and code. Raises LookupError when a party's account is gone."""
    household = await repos.users.by_id(hire.household_id)
    worker = await repos.users.by_id(hire.worker_id)
    if household is None or worker is None:
        raise LookupError("a party of the hire is gone")
    household_profile = await repos.profiles.of(household)
    worker_profile = await repos.profiles.of(worker)
    request = await repos.requests.get(household, hire.request_id)
    profile = await repos.workers.get(hire.profile_id)
    confirmed = hire.confirmed_at
    return ContractTerms(
        hire_id=hire.id,
        household_name=household_profile.name if household_profile else "",
        household_phone=household_profile.phone if household_profile else "",
        worker_name=(profile.name if profile else "")
        or (worker_profile.name if worker_profile else ""),
        worker_phone=worker_profile.phone if worker_profile else "",
        worker_code=(profile.code or "") if profile else "",
        kind=hire.kind,
        mode=hire.mode,
        place=hire.place,
        address=request.address if request else "",
        starts_on=hire.starts_on,
        ends_on=hire.ends_on,
        trial_days=hire.trial_days,
        trial_fee=hire.trial_fee,
        wage=hire.wage,
        wage_unit=hire.wage_unit,
        health_valid_until=profile.health_valid_until if profile else None,
        office_phone=options.office_phone,
        issued_on=options.local(confirmed).date() if confirmed else options.now().date(),
    )


@cache
def template(lang: str) -> string.Template:
    """The contract template of a language (`zh`, `yue`, `en`)."""
    folder = LANGUAGES[lang if lang in LANGUAGES else "zh"][0]
    return string.Template((TEMPLATES / f"{folder}.txt").read_text(encoding="utf-8"))


def _label(_: Translator, vocabulary: Vocabulary, term_id: str) -> str:
    term = vocabulary.get(term_id)
    return _(term.label) if term is not None else _.text(term_id)


def contract_text(_: Translator, lang: str, terms: ContractTerms) -> str:
    """The summary in `lang` (`zh`, `yue`, `en`): its template filled in with the
    terms, formatted by `_` (that language's translator). Plain text: `# ` headings,
    `- ` list items. Raises KeyError when a template names an unknown placeholder."""
    given = _("not given")
    money = _.money
    if terms.wage_unit == "hour":
        wage = _("{amount} an hour", amount=money(terms.wage * 100))
    else:
        wage = _("{amount} a month", amount=money(terms.wage * 100))
    if terms.office_phone:
        emergency = _("Programme office: {phone}", phone=terms.office_phone)
    else:
        emergency = _(
            "the programme office, through this chat: “{button}”",
            button=_("⚠ Report a problem"),
        )
    place = COUNTIES.get(terms.place) or CITIES.get(terms.place)
    # what people typed is one line each: a line break could start a heading or a
    # clause of its own in the programme's document
    one_line = {
        name: " ".join(str(getattr(terms, name)).split())
        for name in ("household_name", "household_phone", "worker_name", "worker_phone")
    }
    address = " ".join(terms.address.split())
    # a replacement can be asked within the days after the job starts (or the
    # confirmation, when it starts earlier)
    replace_from = max(terms.issued_on, terms.starts_on)
    values = {
        "number": f"{terms.hire_id:06d}",
        "issued_on": _.date(terms.issued_on),
        "household_name": one_line["household_name"] or given,
        "household_phone": one_line["household_phone"] or given,
        "worker_name": one_line["worker_name"] or given,
        "worker_phone": one_line["worker_phone"] or given,
        "worker_code": show_code(terms.worker_code) if terms.worker_code else given,
        "kind": _label(_, KINDS_OF_WORK, terms.kind),
        "mode": _label(_, MODES, terms.mode),
        "place": _(place.label) if place is not None else _.text(terms.place),
        "address": _.text(address) or _("as agreed between the household and the worker"),
        "starts_on": _.date(terms.starts_on),
        "ends_on": _.date(terms.ends_on) if terms.ends_on else _("open-ended"),
        "wage": wage,
        "trial_days": str(terms.trial_days),
        "trial_fee": money(terms.trial_fee * 100),
        "trial_total": money(terms.trial_days * terms.trial_fee * 100),
        "replace_until": _.date(replace_from + dt.timedelta(days=REPLACE_WITHIN_DAYS)),
        "report": _("⚠ Report a problem"),
        "health_valid_until": (
            _.date(terms.health_valid_until) if terms.health_valid_until else given
        ),
        "emergency": emergency,
    }
    return template(lang).substitute(values).strip() + "\n"


def contract_title(text: str) -> str:
    """The summary's title: its first heading."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def contract_docx(
    text: str, title: str, *, lang: str = "zh", issued_on: dt.date | None = None
) -> bytes:
    """The summary as a Word document (`.docx`): a `# ` line a heading (the first the
    document's title), a `- ` line a bullet, others paragraphs. Chinese is set in an
    East Asian font phones know (`_FONTS`, with a fallback in the font table), tagged
    with the language. Metadata: `title`, the programme as author, `issued_on` as its
    date, nothing else. The same arguments give the same bytes."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm

    east_asian, _fallback, latin_tag, east_tag = _FONTS.get(lang, _FONTS["zh"])
    document = Document()
    for section in document.sections:  # A4, as documents in China are printed (GB/T 148)
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(25)
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(run_defaults, east_asian, latin_tag, east_tag)
    for name in ("Normal", "Title", "Heading 1", "List Bullet"):
        _set_fonts(styles[name].element.get_or_add_rPr(), east_asian, latin_tag, east_tag)
    for fonts in styles.element.iter(qn("w:rFonts")):  # every other style's theme fonts
        _explicit(fonts, east_asian)

    first = True
    for line in text.splitlines():
        line = line.rstrip()
        if line.startswith("# "):
            document.add_heading(line[2:].strip(), level=0 if first else 1)
            first = False
        elif line.startswith("- "):
            document.add_paragraph(line[2:].strip(), style="List Bullet")
        elif line.strip():
            document.add_paragraph(line.strip())

    when = dt.datetime.combine(issued_on or dt.date.today(), dt.time(0, 0))
    core = document.core_properties
    core.title = title
    core.author = AUTHOR
    core.last_modified_by = AUTHOR
    core.comments = ""
    core.subject = ""
    core.keywords = ""
    core.category = ""
    core.language = latin_tag
    core.revision = 1
    core.created = when
    core.modified = when
    package = document.part.package
    for key, relation in list(package.rels.items()):  # the template's own thumbnail
        if relation.reltype.endswith("/thumbnail"):
            del package.rels[key]
    out = io.BytesIO()
    document.save(out)
    return _repacked(out.getvalue(), lang)


def _set_fonts(element: Any, east_asian: str, latin_tag: str, east_tag: str) -> None:
    """On a `w:rPr` element: explicit fonts (no theme fonts, which would win over
    them) and the language tags."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fonts = element.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        element.insert(0, fonts)
    _explicit(fonts, east_asian)
    fonts.set(qn("w:hint"), "eastAsia")
    language = element.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        element.append(language)
    language.set(qn("w:val"), latin_tag)
    language.set(qn("w:eastAsia"), east_tag)


def _explicit(fonts: Any, east_asian: str) -> None:
    """A `w:rFonts` element naming its fonts outright, without the theme's."""
    from docx.oxml.ns import qn

    for attribute in list(fonts.attrib):
        if attribute.endswith("Theme"):
            del fonts.attrib[attribute]
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), _LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)


def _repacked(data: bytes, lang: str) -> bytes:
    """The package again with a fixed time on every part (the same text gives the same
    bytes) and the East Asian font's fallback in the font table."""
    east_asian, fallback, _latin, _east = _FONTS.get(lang, _FONTS["zh"])
    entry = (
        f'<w:font w:name="{east_asian}"><w:altName w:val="{fallback}"/>'
        '<w:charset w:val="86"/><w:family w:val="swiss"/><w:pitch w:val="variable"/>'
        "</w:font></w:fonts>"
    ).encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "word/fontTable.xml":
                body = body.replace(b"</w:fonts>", entry, 1)
            part = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            part.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(part, body)
    return out.getvalue()


async def contract_replies(ctx: Ctx, hire: Hire) -> list[Reply]:
    """The contract summary for the person in `ctx` (either party), in her language:
    the text as a message, then the same as a document (kept as her file). Raises
    `Invalid` when she is not a party of the hire, or the hire is not confirmed
    (status `hired`)."""
    _ = ctx._
    if ctx.user.id is None or ctx.user.id not in (hire.household_id, hire.worker_id):
        raise Invalid(_("That is not one of your hires."))
    if hire.confirmed_at is None or hire.status not in ("hired", "finished"):
        raise Invalid(_("The contract comes once the household confirms the hire."))
    try:
        terms = await contract_terms(ctx.repos, hire, ctx.options)
    except LookupError:
        raise Invalid(
            _("The other side has deleted their data, so this contract can no longer be made.")
        ) from None
    return await _replies(ctx, hire, terms)


def chat_text(text: str) -> str:
    """The summary as a chat message: `# ` headings become 【heading】 and `- ` items
    `• ` (no platform shows the template's marks as formatting)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("# "):
            lines.append(f"【{line[2:].strip()}】")
        elif line.startswith("- "):
            lines.append(f"• {line[2:]}")
        else:
            lines.append(line)
    return "\n".join(lines)


async def _replies(ctx: Ctx, hire: Hire, terms: ContractTerms) -> list[Reply]:
    _ = ctx._
    text = contract_text(_, _.lang, terms)
    data = await asyncio.to_thread(
        contract_docx, text, contract_title(text), lang=_.lang, issued_on=terms.issued_on
    )
    replies = [Reply(chat_text(text))]
    try:
        name = await ctx.repos.files.keep_document(ctx.user, f"contract:{hire.id}", data)
    except FileRejected as rejected:  # not expected: the document is ours
        log.error("contract document not kept: %s", rejected.reason)
        return replies
    shown = _("Haoxin-contract-{date}.docx", date=terms.issued_on.strftime("%Y%m%d"))
    note = _(
        "📄 The same contract summary as a document, to keep, print or show: {name}", name=shown
    )
    replies.append(Reply(note, document=name, document_name=shown))
    return replies


async def send_contract(ctx: Ctx, hire: Hire) -> None:
    """Send the contract summary to both parties through the outbox, each in her own
    language (`outside`), each with her own document. Raises `Invalid` when the hire
    is not confirmed, LookupError when a party's account is gone."""
    if hire.status != "hired":
        raise Invalid(ctx._("The contract comes once the household confirms the hire."))
    terms = await read_terms(ctx.repos, hire, ctx.options)
    await ctx.repos.hiring.keep_terms(hire, terms.to_json())  # as confirmed, from now on
    for user_id in (hire.household_id, hire.worker_id):
        user = await ctx.repos.users.by_id(user_id)
        if user is None:
            raise LookupError("a party of the hire is gone")
        replies = await _replies(outside(ctx.repos, user, ctx.options), hire, terms)
        ctx.notify(user.key, replies, topic=f"contract:{hire.id}")
