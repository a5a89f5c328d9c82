"""SQLAlchemy models: the tables behind every conversation and the programme's catalogue.

One declarative base; typed columns (`Mapped[...]`). Portable types only (no SQLite- or
PostgreSQL-only column types), so the same models and migrations serve both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as text_clause
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A person talking to Haoxin on one platform, and where their conversation stands.

    `key` is the platform and the platform's user id (`tg:123`, `wx:oXYZ`, `console:local`).
    Nothing personal is kept here before `consented_at` is set; the form data collected in
    a flow lives in `form` and is written in the same transaction as the state.
    """

    __tablename__ = "users"
    # her row changes on nearly every event: written once at commit (storage.db.HeldSession)
    flush_at_commit: ClassVar[bool] = True

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    role: Mapped[str | None] = mapped_column(String(16), default=None)
    state: Mapped[str] = mapped_column(String(48), default="")
    form: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the buttons of the last screen: a nonce that stamps their data, and their labels
    # and data so that a typed number or label on a platform without buttons presses one
    screen_nonce: Mapped[int] = mapped_column(Integer, default=0)
    screen_buttons: Mapped[list[Any]] = mapped_column(default=list)
    start_payload: Mapped[str | None] = mapped_column(String(64), default=None)
    consented_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    consent_version: Mapped[int | None] = mapped_column(Integer, default=None)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    #: she turned programme notices (broadcasts) off with /notices; messages about her own
    #: sign-ups, interviews and hires still reach her (they go through the outbox)
    notices_off: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the training base she is staff of (an admin's one-time invite, `StaffInvite`);
    #: None: not base staff. Read with her row on every event: revoking takes effect
    #: on her next tap
    staff_base_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_bases.id", ondelete="SET NULL"), default=None
    )
    #: presses of button data not issued to her on her current screen (stale or forged)
    refused_presses: Mapped[int] = mapped_column(Integer, default=0)
    #: the last few texts she typed (`handlers.questions.RECENT` of them, each cut to
    #: `RECENT_CHARS`; never what she typed where personal data is asked): the context a
    #: help-desk ticket carries (issue 13). Erased with her row
    recent: Mapped[list[Any]] = mapped_column(default=list)
    #: questions she asked the catalogue or the help desk since `asked_since` (a window
    #: of `handlers.questions.FLOOD_WINDOW`): a flood from one person is limited
    asked_since: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    asked_count: Mapped[int] = mapped_column(Integer, default=0)
    #: the question she typed last (after she agreed to the privacy notice): what "👤 Ask
    #: a person" carries. Kept here, not in `form`, so her form stays exactly as it was
    asked: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def platform(self) -> str:
        return self.key.split(":", 1)[0]


class ProcessedEvent(Base):
    """An incoming platform update that was handled, with the replies it got.

    One row is one message (or event) of one person on one platform: WeChat's `MsgId`
    is unique only within an account, and two followers' ids do collide, so the person
    is part of the key. A repeat of the same (platform, person, update id) is never
    handled twice. Its replies are kept only as long as a platform retries (WeChat: 15 s;
    `bot.dispatcher.REPLIES_KEPT`), then cleared; the record itself is pruned after a day
    and deleted with the person's data.
    """

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # None is SQL NULL (not the JSON text `null`), so cleared replies leave the partial
    # index below and the janitor never rewrites them again
    replies: Mapped[list[Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None, nullable=True
    )
    handled_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


# the janitor clears replies older than 30 s: only the few records still holding some
Index(
    "ix_processed_events_with_replies",
    ProcessedEvent.handled_at,
    sqlite_where=ProcessedEvent.replies.is_not(None),
    postgresql_where=ProcessedEvent.replies.is_not(None),
)


class SignedRequest(Base):
    """A (timestamp, nonce) pair of a signed platform request (WeChat), seen once.

    WeChat signs only the token, timestamp and nonce; a pair seen again with the same
    body is WeChat retrying, with another body it is a replay and is refused. Rows older
    than the freshness window are pruned: a request that old is refused anyway.
    """

    __tablename__ = "signed_requests"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    timestamp: Mapped[str] = mapped_column(String(16), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: SHA-256 of the method and body, hex
    digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Outbox(Base):
    """A message to send a person later, outside a reply: reminders, notices, match news.

    Written in the same transaction as what caused it; a transport's notifier sends it
    and records how that went (`sent`, `unreachable`, `failed`), so nothing is dropped
    silently and nothing is sent twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_key: Mapped[str] = mapped_column(String(80), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    replies: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: what the message is about (`reminder:course:3`), to replace or withdraw it
    topic: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    error: Mapped[str] = mapped_column(String(120), default="")
    #: the token of the notifier that holds it while `sending` (see OutboxRepo.claim)
    claim: Mapped[str | None] = mapped_column(String(32), default=None)


Index("ix_outbox_platform_status_due", Outbox.platform, Outbox.status, Outbox.due_at)


class TrainingBase(Base):
    """A training base (培训基地): where courses are taught."""

    __tablename__ = "training_bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    county: Mapped[str] = mapped_column(String(40), default="")
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    phone: Mapped[str] = mapped_column(String(40), default="")
    #: English for English readers, where the data file gives it (else the Chinese shows)
    name_en: Mapped[str] = mapped_column(String(120), default="")
    address_en: Mapped[str] = mapped_column(String(200), default="")

    courses: Mapped[list[Course]] = relationship(back_populates="base")


class Course(Base):
    """A training course on one of the programme's tracks, taught at a training base."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    #: English for English readers, where the data file gives it (else the Chinese shows)
    title_en: Mapped[str] = mapped_column(String(120), default="")
    track: Mapped[str] = mapped_column(String(40))
    brand: Mapped[str] = mapped_column(String(40), default="")
    base_id: Mapped[int] = mapped_column(ForeignKey("training_bases.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    daily_hours: Mapped[str] = mapped_column(String(40), default="")
    seats: Mapped[int] = mapped_column(Integer, default=0)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    free_for: Mapped[list[Any]] = mapped_column(default=list)
    certificate: Mapped[str] = mapped_column(String(120), default="")
    certificate_en: Mapped[str] = mapped_column(String(120), default="")
    teaching_language: Mapped[str] = mapped_column(String(40), default="")
    lodging: Mapped[bool] = mapped_column(Boolean, default=False)
    childcare: Mapped[bool] = mapped_column(Boolean, default=False)
    signup_closes_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    room: Mapped[str] = mapped_column(String(80), default="")
    #: `open` or `cancelled`
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: confirmed seats; changed only by one atomic UPDATE ... WHERE seats_taken < seats
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )

    base: Mapped[TrainingBase] = relationship(back_populates="courses")


class JobFair(Base):
    """A job fair (招聘会) with the firms attending and their headline jobs.

    `starts_at` and `ends_at` are local wall-clock times of the programme (as printed on
    the poster), unlike the UTC timestamps elsewhere.

    Where its jobs are (`storage.fairs.destinations`) is also kept in `FairPlace` rows
    (table `fair_places`), so that the fairs list filters, counts and pages in SQL. Whoever
    writes a fair's `employers` calls `FairRepo.keep_places` in the same transaction (the
    importer does); a place row's copy of the fair's `starts_at` and `status` is kept equal
    by the database itself (a foreign key with ON UPDATE CASCADE).
    """

    __tablename__ = "job_fairs"
    __table_args__ = (
        # the fairs list: open fairs from a day on, soonest first (ties by id), and by county
        Index("ix_job_fairs_status_starts_at", "status", "starts_at", "id"),
        Index("ix_job_fairs_status_county", "status", "county", "starts_at", "id"),
        # what `fair_places` copies (starts_at, status) from: a key, for its foreign key
        Index("uq_job_fairs_id_starts_at_status", "id", "starts_at", "status", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(160))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    venue: Mapped[str] = mapped_column(String(160), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    county: Mapped[str] = mapped_column(String(40), default="")
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    organiser: Mapped[str] = mapped_column(String(120), default="")
    #: English for English readers, where the data file gives it (else the Chinese shows);
    #: an employer's English name is its `name_en` in `employers`
    title_en: Mapped[str] = mapped_column(String(160), default="")
    venue_en: Mapped[str] = mapped_column(String(160), default="")
    address_en: Mapped[str] = mapped_column(String(200), default="")
    organiser_en: Mapped[str] = mapped_column(String(120), default="")
    registration_required: Mapped[bool] = mapped_column(Boolean, default=False)
    employers: Mapped[list[Any]] = mapped_column(default=list)
    #: `open` or `cancelled`
    status: Mapped[str] = mapped_column(String(16), default="open")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )


class FairPlace(Base):
    """One place where a fair's jobs are: one row per item of
    `storage.fairs.destinations(fair)`, at its index there (`position`, from 0).

    `starts_at` and `status` are the fair's, copied so that the destination filter, its
    count and the list of destinations read one index; the foreign key to the fair's
    (id, starts_at, status) makes the database update them with the fair (and delete
    the rows with it), whatever writes the fair.
    """

    __tablename__ = "fair_places"
    __table_args__ = (
        ForeignKeyConstraint(
            ["fair_id", "starts_at", "status"],
            ["job_fairs.id", "job_fairs.starts_at", "job_fairs.status"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        # a destination's open fairs from a day on, soonest first: filter, count, choices
        Index("ix_fair_places_status_place", "status", "place", "starts_at", "fair_id"),
    )

    fair_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    place: Mapped[str] = mapped_column(Text, primary_key=True)
    #: the place's index in `destinations(fair)`: the order the fair card names them in
    position: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))


class Profile(Base):
    """What a person told us about herself at sign-up, reused for the next form.

    Personal data: collected only after consent, deleted with the user (cascade).
    """

    __tablename__ = "profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    county: Mapped[str] = mapped_column(String(40), default="")
    township: Mapped[str] = mapped_column(String(40), default="")
    #: the group she trains free as (`FREE_GROUPS` id, or `none`), asked only by
    #: courses with a fee that some groups train free
    free_reason: Mapped[str] = mapped_column(String(24), default="")
    age: Mapped[int | None] = mapped_column(Integer, default=None)


class Signup(Base):
    """A place on a course: `confirmed` (a seat), `waitlisted` or `cancelled`.

    One row per person and course (unique), reused when she signs up again. The waiting
    list is ordered by `queued_at`, then `id`.
    """

    __tablename__ = "signups"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    county: Mapped[str] = mapped_column(String(40), default="")
    township: Mapped[str] = mapped_column(String(40), default="")
    age: Mapped[int | None] = mapped_column(Integer, default=None)
    free_reason: Mapped[str] = mapped_column(String(24), default="")
    availability: Mapped[str] = mapped_column(String(80), default="")
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    course: Mapped[Course] = relationship()


class FairRegistration(Base):
    """A person registered to attend a job fair."""

    __tablename__ = "fair_registrations"
    __table_args__ = (UniqueConstraint("fair_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("job_fairs.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="registered")
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    fair: Mapped[JobFair] = relationship()


class DemoWorker(Base):
    """A fictional worker from the demo file: self-reported data only, never verified.

    Real worker profiles (built in conversation, vetted by admins) arrive with their own
    issue; this table lets the demo show households realistic people until then.
    """

    __tablename__ = "demo_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    categories: Mapped[list[Any]] = mapped_column(default=list)
    county: Mapped[str] = mapped_column(String(40), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer, default=None)
    years_experience: Mapped[int] = mapped_column(Integer, default=0)
    dialects: Mapped[list[Any]] = mapped_column(default=list)
    certificates: Mapped[list[Any]] = mapped_column(default=list)
    about: Mapped[str] = mapped_column(Text, default="")


class DemoHousehold(Base):
    """A fictional household from the demo file, with the help it is looking for."""

    __tablename__ = "demo_households"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    city: Mapped[str] = mapped_column(String(40), default="")
    need: Mapped[dict[str, Any]] = mapped_column(default=dict)


Index("ix_courses_starts_on", Course.starts_on)
# the open courses of a kind of work, and how many of each kind: from the index alone
Index(
    "ix_courses_open_track",
    Course.status,
    Course.track,
    Course.starts_on,
    Course.signup_closes_on,
)
Index("ix_job_fairs_starts_at", JobFair.starts_at)
# a waiting list in order, and how many are ahead of her: from the index alone
Index("ix_signups_waiting", Signup.course_id, Signup.status, Signup.queued_at, Signup.id)


# --- workers: profiles, certificates, vetting (issue 10) --------------------------------
class StoredFile(Base):
    """A file a person sent (a certificate photo) or Haoxin made for her (her credential
    card), kept on disk outside the database under `name` (random, `storage.files`).

    Deleted with her row (cascade); whoever erases her deletes the files on disk too
    (`storage.files.FileStore.delete`). Only she and staff are ever shown a certificate
    photo.
    """

    __tablename__ = "stored_files"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: `certificate` (a photo she sent) or `card` (her credential card image)
    purpose: Mapped[str] = mapped_column(String(24))
    #: a MIME type (a Word document's is 71 characters)
    content_type: Mapped[str] = mapped_column(String(100), default="image/jpeg")
    size: Mapped[int] = mapped_column(Integer, default=0)  # bytes on disk
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WorkerProfile(Base):
    """A worker's profile: what she says of herself, and where its vetting stands.

    `status`: `draft` → `submitted` → `verified`, `changes` (staff asked for changes,
    `reason` says why, `answer` is hers) or `rejected`; a verified worker can be
    `suspended`. Households are only ever shown a profile that is verified, not
    `paused`, shared (`shared_at`, her consent to show it: PIPL art. 23) and whose
    health check is valid (`health_valid_until` >= today): `storage.workers.VISIBLE`.

    Privacy: the ID number is never stored whole, only its last four characters and a
    keyed hash to find the same person twice (`storage.workers.id_digest`); health
    results only as "passed on `health_passed_on`", after her separate consent
    (`health_consent_at`). `version` grows with every change; a staff decision names
    the version it saw and is refused when the profile moved on (two staff at once).
    """

    __tablename__ = "worker_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    #: when she agreed to show the profile to households; None: hidden
    shared_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    #: when she agreed, separately, to give her health examination result
    health_consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    name: Mapped[str] = mapped_column(String(40), default="")
    #: kinds of work (`KINDS_OF_WORK` ids) and add-on skills (`ADD_ON_SKILLS` ids)
    kinds: Mapped[list[Any]] = mapped_column(default=list)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    years: Mapped[int | None] = mapped_column(Integer, default=None)
    #: past jobs, at most 5: [{"what": kind id, "where": place id or text, "years": n}]
    jobs: Mapped[list[Any]] = mapped_column(default=list)
    #: counties and cities she will work in (`COUNTIES` / `CITIES` ids)
    places: Mapped[list[Any]] = mapped_column(default=list)
    #: service modes she offers and the pay she expects, yuan:
    #: {"live_in": [min, max] a month, "day": [min, max] a month, "hourly": [min, max] an hour}
    pay: Mapped[dict[str, Any]] = mapped_column(default=dict)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    available_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    available_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    intro: Mapped[str] = mapped_column(Text, default="")
    id_last4: Mapped[str] = mapped_column(String(4), default="")
    id_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    health_passed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: the recorded health check's end of validity (a year after it): matching reads it
    health_valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    #: the credential's verification code, given when first verified
    code: Mapped[str | None] = mapped_column(String(16), default=None, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    #: the profile's fields as staff last saw them (what changed since, in the queue)
    reviewed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    #: since when it waits for staff (submitted, or a verified field edited); None: not
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None, index=True)
    #: when she was first verified: newly verified workers are offered to open requests
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None, index=True)
    #: since when her average over her last five reviews is below 4.0: in the staff's
    #: review queue (she is not hidden automatically); None: not flagged
    review_flagged_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime, default=None, index=True
    )
    #: households' reviews of her (`Review`, side `household`): how many, and their
    #: average over the three marks; kept equal to the rows by the repository, in the
    #: transaction that adds a review
    reviews_count: Mapped[int] = mapped_column(Integer, default=0)
    reviews_average: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="Certificate.id"
    )


class Certificate(Base):
    """A certificate she holds (`CERTIFICATES` id), with a photo where she sent one."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    number: Mapped[str] = mapped_column(String(40), default="")
    issuer: Mapped[str] = mapped_column(String(80), default="")
    issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: a `StoredFile` name, or None
    photo: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    profile: Mapped[WorkerProfile] = relationship(back_populates="certificates")


class VettingCheck(Base):
    """One check recorded by staff: `kind` (`CHECKS` id: identity, health, criminal,
    certificate, training) of `subject` (a certificate's or a course's id; "" for the
    others), its `result` (`passed`, `failed`, or `recheck` when she edited the field
    since), when (`checked_on`), until when (`valid_until`: a health check, a year), who
    (`staff`, a platform key) and a note. The newest row of a (kind, subject) is its
    state."""

    __tablename__ = "vetting_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(24), default="")
    result: Mapped[str] = mapped_column(String(16))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    staff: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Training(Base):
    """A course she attended and completed through Haoxin, as marked by staff (from the
    staff menu or an import): shown on her profile as verified training."""

    __tablename__ = "trainings"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    marked_by: Mapped[str] = mapped_column(String(80), default="")
    marked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    """A staff decision or action: who (`actor`, a platform key), when, what
    (`action`), on what (`subject`: `worker:12`), the values before and after, and why.
    Staff read it per worker; erased with the person it is about."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LookupFailure(Base):
    """A credential code someone looked up that does not exist: counted per person
    (`who`: a keyed hash of her platform key) to stop codes being guessed
    (`storage.workers.LOOKUP_LIMIT`). Kept an hour, also after she erased her data."""

    __tablename__ = "lookup_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    who: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# --- households: requests for help and fair exposure (issue 11) -------------------------
class HelpRequest(Base):
    """A household's request for help: what, how, where, when, for how long, the
    budget, language, preferred age and experience, special needs and a note.

    `status`: `draft` (being written), `open` (matched), `paused`, `closed`. Special
    needs about a child or a patient (`needs`: twins, premature baby, dementia,
    bedridden…) and the baby's due date are sensitive (PIPL art. 28-29): asked only
    after `sensitive_consent_at`, kept to what the job needs, deleted with her.
    Money in yuan: a month (`budget_unit` `month`) or an hour (`hour`).
    """

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: `KINDS_OF_WORK`, `MODES` and a `COUNTIES` or `CITIES` id
    kind: Mapped[str] = mapped_column(String(24), default="")
    mode: Mapped[str] = mapped_column(String(16), default="")
    place: Mapped[str] = mapped_column(String(24), default="")
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    starts_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: a maternity nurse's request: the baby's due date (sensitive), the start follows it
    due_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: how long, in days (a 月嫂's job runs 26 or 42)
    days: Mapped[int | None] = mapped_column(Integer, default=None)
    budget_min: Mapped[int | None] = mapped_column(Integer, default=None)
    budget_max: Mapped[int | None] = mapped_column(Integer, default=None)
    budget_unit: Mapped[str] = mapped_column(String(8), default="month")
    languages: Mapped[list[Any]] = mapped_column(default=list)
    age_min: Mapped[int | None] = mapped_column(Integer, default=None)
    age_max: Mapped[int | None] = mapped_column(Integer, default=None)
    min_years: Mapped[int | None] = mapped_column(Integer, default=None)
    needs: Mapped[list[Any]] = mapped_column(default=list)
    sensitive_consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    #: the day a newly verified worker was last offered to it (at most one a day)
    offered_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: where the help is needed: private, given to a worker only once both have agreed
    #: to an interview at home (`Interview`), deleted when the request is closed
    address: Mapped[str] = mapped_column(Text, default="")
    #: profile ids she was shown or offered (new workers are offered once each)
    shown: Mapped[list[Any]] = mapped_column(default=list)
    #: profile ids never to show again for it (a trial she ended: a replacement)
    excluded: Mapped[list[Any]] = mapped_column(default=list)
    #: the newly verified workers last offered to it (`handlers.chores`): her next
    #: shortlist shows them first, while they still fit
    offered: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Exposure(Base):
    """How often a worker was shown to households, for fair exposure: among near-equal
    candidates the less shown come first (issue 11). One row per worker, counted by
    one `UPDATE ... SET shown = shown + 1` per showing."""

    __tablename__ = "worker_exposures"

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    shown: Mapped[int] = mapped_column(Integer, default=0)
    last_shown_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class WorkerTag(Base):
    """What a worker offers, one row per fact (`kind:maternity`, `place:guangzhou`,
    `mode:live_in`, `lang:cantonese`), kept equal to her profile by `WorkerRepo`
    whenever those fields change: matching filters 100,000 workers by an index, not by
    reading JSON (issue 11)."""

    __tablename__ = "worker_tags"
    __table_args__ = (Index("ix_worker_tags_tag", "tag", "profile_id"),)

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(48), primary_key=True)


#: interview statuses that still hold: waiting for an answer, or agreed
INTERVIEW_LIVE = ("asked", "moved", "agreed")
#: hire statuses of a worker at work (one at a time)
HIRE_LIVE = ("trial", "hired")


class Interview(Base):
    """A household's request to interview a worker for one of its requests (issue 11).

    `status`: `asked` (waiting for the worker until `expires_at`), `moved` (she
    proposed another time, `at`; waiting for the household until `expires_at`),
    `agreed` (both agreed: each side now sees the other's phone number, the worker the
    address), `declined` (by her), `withdrawn` (by the household), `expired` (24 hours
    without an answer), `cancelled` (she was paused, hidden or hired meanwhile).
    Every change is one conditional UPDATE on (`status`, `version`): the first of two
    answers wins, the second is told what happened. `at` is naive UTC; `how` is
    `home` (at the household's address) or `video`.
    """

    __tablename__ = "interviews"
    __table_args__ = (
        # one live interview per worker and request: a second ask is refused
        Index(
            "uq_interviews_live",
            "request_id",
            "profile_id",
            unique=True,
            sqlite_where=text_clause("status IN ('asked', 'moved', 'agreed')"),
            postgresql_where=text_clause("status IN ('asked', 'moved', 'agreed')"),
        ),
        Index("ix_interviews_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), index=True
    )
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="CASCADE"), index=True
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="asked")
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    how: Mapped[str] = mapped_column(String(8), default="home")
    #: the job as the worker is told it (no address): the household's own words
    summary: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    agreed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Hire(Base):
    """A trial (试工) and, once confirmed, a placement (issue 11).

    `status`: `trial` (paid per day: `trial_days` at `trial_fee` yuan a day), `hired`
    (confirmed: the contract holds), `ended` (the household ended the trial: a
    replacement is sought), `finished` (the job is over: both are asked for a review).
    `wage` is yuan a `wage_unit` (`month` or `hour`). `city` is the destination for
    the programme's statistics: `maoming` (any of its counties), a Greater Bay Area
    city id (`CITIES`), or `elsewhere`. A worker has at most one live hire
    (`HIRE_LIVE`) on any day: their dates never overlap (`storage.hiring.at_work`).
    """

    __tablename__ = "hires"
    __table_args__ = (
        # her live trials and hires (matching leaves her out on their dates)
        Index(
            "ix_hires_live_profile",
            "profile_id",
            sqlite_where=text_clause("status IN ('trial', 'hired')"),
            postgresql_where=text_clause("status IN ('trial', 'hired')"),
        ),
        Index("ix_hires_status_ends", "status", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # a placement outlives either side's erasure, without them (the programme's
    # statistics): every link to a person is emptied (SET NULL), none deletes it
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_requests.id", ondelete="SET NULL"), index=True
    )
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="SET NULL")
    )
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="trial")
    kind: Mapped[str] = mapped_column(String(24), default="")
    mode: Mapped[str] = mapped_column(String(16), default="")
    place: Mapped[str] = mapped_column(String(24), default="")
    city: Mapped[str] = mapped_column(String(24), default="", index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    trial_days: Mapped[int] = mapped_column(Integer, default=3)
    trial_fee: Mapped[int] = mapped_column(Integer, default=0)
    wage: Mapped[int] = mapped_column(Integer, default=0)
    wage_unit: Mapped[str] = mapped_column(String(8), default="month")
    end_reason: Mapped[str] = mapped_column(Text, default="")
    #: the contract's terms as confirmed (`handlers.contract.ContractTerms`, JSON): the
    #: contract is made from these, not from what either side changes later
    terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: when she agreed to the trial's terms (the hire can be confirmed only after)
    worker_agreed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    #: when both were asked for a review (at the end date), once
    review_asked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Review(Base):
    """One side's review after a job: 1-5 for quality, communication and reliability,
    and a comment. `side` is who wrote it: `household` (about the worker: counts on her
    credential from three reviews) or `worker` (about the household). One per side and
    hire."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("hire_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hire_id: Mapped[int] = mapped_column(ForeignKey("hires.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("worker_profiles.id", ondelete="CASCADE"), index=True
    )
    quality: Mapped[int] = mapped_column(Integer)
    communication: Mapped[int] = mapped_column(Integer)
    reliability: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ProblemReport(Base):
    """A problem either side reported (issue 11): it reaches staff with its context
    (`hire_id`, `interview_id`, `request_id`, whichever it was about), and the reporter
    gets `reference`. `status`: `open` or `handled` (by `handled_by`, a staff key)."""

    __tablename__ = "problem_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: `household` or `worker`
    side: Mapped[str] = mapped_column(String(16), default="")
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_requests.id", ondelete="SET NULL"), default=None
    )
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL"), default=None
    )
    hire_id: Mapped[int | None] = mapped_column(
        ForeignKey("hires.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    handled_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class StaffInvite(Base):
    """A one-time invite to become staff of a training base (issue 12): an admin makes
    it, the person it is given to redeems it once before `expires_at`. Only a hash of
    the code is kept (`code_hash`: SHA-256 of the code as stored), so the table does not
    hold a usable invite."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("training_bases.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    #: the platform key of who redeemed it
    used_by: Mapped[str] = mapped_column(String(80), default="")


# --- broadcasts: programme notices to many people (issue 12) ---------------------------
class Broadcast(Base):
    """A notice staff send to many people: its text (`texts`: one per language, `zh`,
    `yue`, `en`, or `all` for every language), an optional button that opens a course
    or a fair (`button`: {"kind": "course" | "fair", "id": n}), who receives it
    (`audience`: `storage.broadcasts.audience_keys`) and when (`send_at`, naive UTC;
    None: at once).

    `status`: `draft` → `queued` (confirmed; `version` makes two confirmations one) →
    `sending` (its deliveries written: `BroadcastDelivery`) → `done`; or `cancelled`.
    The counts are kept equal to its deliveries' rows by `BroadcastRepo`, in the
    transaction that writes or settles each: `total` rows to send (every row but the
    opted-out), `sent`, `failed`, `unreachable` (blocked the bot, gone),
    `not_reachable_wechat` (a WeChat follower outside the 48-hour window) and
    `skipped_opted_out` (she turned notices off). `claim` and `lease_until` hold it
    while one broadcaster writes its deliveries.
    """

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the staff member who wrote it (a platform key)
    created_by: Mapped[str] = mapped_column(String(80))
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    button: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None, nullable=True
    )
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    send_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    not_reachable_wechat: Mapped[int] = mapped_column(Integer, default=0)
    skipped_opted_out: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class BroadcastDelivery(Base):
    """One person's copy of a broadcast, and how sending it went.

    `status`: `pending` (due at `next_at`), `sending` (held by the broadcaster whose
    `claim` token it carries until `lease_until`; a crash frees it then), `sent`,
    `failed` (after a few tries), `unreachable` (she blocked the bot), `outside_window`
    (WeChat: no message from her in 48 hours), `skipped` (she turned notices off) or
    `cancelled` (staff cancelled the broadcast before it reached her). `error` is the
    platform's code, never text.
    """

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_key"),
        # what is due, and whose lease ran out: from the index alone
        Index("ix_broadcast_deliveries_due", "status", "platform", "next_at"),
        Index("ix_broadcast_deliveries_lease", "status", "lease_until"),
        # one broadcast's counts and what is left of it
        Index("ix_broadcast_deliveries_progress", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    #: a platform key (`tg:123`); her other deliveries, for one message a second per chat
    user_key: Mapped[str] = mapped_column(String(80), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    error: Mapped[str] = mapped_column(String(40), default="")


class SendGate(Base):
    """The pace of broadcast messages on one platform (`name`: `tg`, `wx`), shared by
    every instance: `next_at` is the first moment (seconds since the epoch) not yet
    given to a message. A broadcaster takes the next slots with one conditional UPDATE
    (`storage.broadcasts.take_slots`), so instances together stay within the rate; a
    flood-control answer moves it past the wait."""

    __tablename__ = "send_gates"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)


# --- questions: the catalogue of answers and the help desk (issue 13) -------------------
class FaqEntry(Base):
    """A question of the catalogue added or changed by staff: imported (`haoxin import`,
    or a file in chat) or made from a help-desk ticket with one action (issue 13).

    The catalogue ships as `storage/faq.yaml`; an entry here with the same `key` takes
    the place of the shipped one, and `active=False` hides it. `questions` holds, per
    language (`zh`, `yue`, `en`), the ways people ask it, the first being its title;
    `answers` the answer in each language. `updated_at` tells every instance's matcher
    what changed since it last looked."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    topic: Mapped[str] = mapped_column(String(24), default="")
    questions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: `import` or `desk` (made from a ticket)
    source: Mapped[str] = mapped_column(String(16), default="import")
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Ticket(Base):
    """A question for a person at the programme (issue 13): her question, its context
    (`context`: role, the step she was on, her last few messages, language, platform),
    and the conversation that follows (`TicketMessage`).

    `status`: `open` (waiting for someone to take it) → `taken` (by `holder`, a staff
    key, with one conditional UPDATE: two staff, on two instances too, cannot both take
    it) → `closed`. `base_id`: the training base it is about (base staff see those);
    None: the programme office's. `urgent`: a safety report, told to every admin at once.
    """

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_queue", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    base_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_bases.id", ondelete="SET NULL"), default=None
    )
    question: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    holder: Mapped[str] = mapped_column(String(80), default="")
    #: the catalogue entry made from it (`FaqEntry.key`), if any
    faq_key: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    closed_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TicketMessage(Base):
    """One message of a ticket's conversation: `author` `asker` (her) or `staff`
    (`staff_key`, who wrote it)."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(16), default="asker")
    staff_key: Mapped[str] = mapped_column(String(80), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
