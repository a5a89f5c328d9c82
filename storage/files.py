"""Files people send (a certificate photo) and pictures Haoxin draws (a credential card):
kept on disk, outside the database, each under a random name.

    photo bytes ── sniffed by content ── too big? not a picture? damaged? a pixel bomb?
                                      └─ upright (EXIF orientation), at most 2048 px,
                                         JPEG again with no metadata at all ── disk

- What a file is, is read from its content, never from the name she gave it.
- A photo is decoded and encoded again: EXIF (her phone, the time, the GPS position),
  XMP and colour profiles are not carried over; it is turned upright first, so it still
  shows the right way up.
- Names are 32 random hex digits and an extension (`3f…9a.jpg`); `FileStore.path` takes
  only names of that form, so a name can never point elsewhere on disk.
- Documents Haoxin writes (a contract summary, `.docx`; the programme's numbers and
  the staff's exports, `.xlsx`; an export as CSV, `.csv`) are kept as they are, checked
  to be a Word document, a workbook or UTF-8 text with its byte-order mark; a person's
  copy replaces her earlier one for the same purpose.
- Files are written to a temporary file and renamed into place (a reader never sees
  half a file), readable by Haoxin's own user only (0600, in a 0700 folder).
- The database holds who each file belongs to (`StoredFile`); `FileRepo` keeps the two
  together: a file saved in a transaction that is rolled back is deleted again, and
  erasing a person deletes her files from disk (`UserRepo.erase`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import secrets
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from storage.models import StoredFile, User

log = logging.getLogger(__name__)

#: the largest file a person may send, bytes (= `handlers.events.MAX_FILE_BYTES`, which
#: storage cannot import: handlers import storage)
MAX_BYTES = 5 * 1024 * 1024
#: the largest picture Haoxin keeps of its own drawing, bytes: Telegram's and WeChat's
#: upload limit for a photo is 10 MB
MAX_PNG_BYTES = 10 * 1024 * 1024
#: the most pixels a photo may have (a 40-megapixel camera's): more is refused before it
#: is decoded (a small file can claim billions of pixels: a decompression bomb)
MAX_PIXELS = 40_000_000
#: the largest document Haoxin keeps of its own writing (a contract summary), bytes
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_SIDE = 2048  # pixels: a stored photo's longer side at most
JPEG_QUALITY = 85

_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|docx|xlsx|csv)")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "docx": DOCX_TYPE,
    "xlsx": XLSX_TYPE,
    "csv": CSV_TYPE,
}
#: the extensions of documents Haoxin writes (`save_document`): the only files a link
#: may name (`bot.wechat.document_link`); photos and cards never
DOCUMENT_EXTENSIONS = ("docx", "xlsx", "csv")
#: how a CSV Haoxin writes begins: UTF-8's byte-order mark (`storage.exports.to_csv`)
_UTF8_BOM = b"\xef\xbb\xbf"
#: what a document package must hold to be one, by the extension it is kept under
_DOCUMENT_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
#: the picture formats taken from people, by sniffed kind → Pillow's decoder for it
_DECODERS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "avif": "AVIF",
}
_SESSION_FILES = "haoxin_new_files"  # session.info: files saved in its transaction
_SESSION_GONE = "haoxin_gone_files"  # session.info: files to delete once it commits


class FileRejected(ValueError):
    """A file Haoxin will not keep. `reason`:

    - `too_big`: over the size limit (`MAX_BYTES`);
    - `not_image`: not a picture Haoxin reads; `found` is what it looks like by its
      content (`pdf`, `zip`, `doc`, `text`, `heic`, `tiff`, `video`...), `""` unknown;
    - `damaged`: it looks like a picture (JPEG, PNG...) but cannot be decoded;
    - `too_many_pixels`: more than `MAX_PIXELS` (a decompression bomb);
    - `not_document`: not a Word document (`.docx`), a workbook (`.xlsx`) nor a CSV
      (UTF-8 text with its byte-order mark) where Haoxin keeps one it wrote.
    """

    def __init__(self, reason: str, found: str = "") -> None:
        super().__init__(reason if not found else f"{reason}: {found}")
        self.reason = reason
        self.found = found


def sniff(data: bytes) -> str:
    """What `data` is, by its first bytes: `jpeg`, `png`, `gif`, `webp`, `bmp`, `avif`,
    `heic`, `tiff`, `pdf`, `zip` (also .docx, .xlsx), `doc` (old Office files), `rar`,
    `7z`, `gzip`, `video`, `audio`, `svg`, `text`; `""` when unknown."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and head[14:18] in _DIB_SIZES:
        return "bmp"  # a known size of the header that follows
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "heic"
        return "video"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return _text_kind(data[:4096])


_DIB_SIZES = {n.to_bytes(4, "little") for n in (12, 40, 52, 56, 64, 108, 124)}
_MAGIC = (
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "doc"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x1a\x45\xdf\xa3", "video"),  # Matroska, WebM
    (b"OggS", "audio"),
    (b"ID3", "audio"),
    (b"#!AMR", "audio"),
    (b"fLaC", "audio"),
)


def _text_kind(head: bytes) -> str:
    """`svg` or `text` when `head` reads as UTF-8 text (a character cut at its end is
    allowed), else `""`."""
    if not head:
        return ""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as bad:
        if bad.start < len(head) - 3:
            return ""
        text = head[: bad.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return ""
    return "svg" if "<svg" in text[:1024].lower() else "text"


class FileStore:
    """Files on disk under `root`, by random names. Blocking file I/O: call `save_image`
    from a worker thread in async code (`FileRepo` does)."""

    def __init__(self, root: Path, id_hash_key: str = "") -> None:
        """`id_hash_key`: the configured key of ID-number hashes (`HAOXIN_ID_HASH_KEY`);
        empty: a random one kept in this folder (`id_hash_key()`)."""
        self.root = Path(root)
        self._id_hash_key = id_hash_key

    @classmethod
    def default(cls) -> FileStore:
        """The folder named by HAOXIN_FILES_DIR, else `./haoxin-files`, and the key of
        HAOXIN_ID_HASH_KEY. (`Settings.file_store` is the configured one: beside the
        SQLite database by default.)"""
        folder = Path(os.environ.get("HAOXIN_FILES_DIR") or "haoxin-files")
        return cls(folder, os.environ.get("HAOXIN_ID_HASH_KEY", ""))

    # --- the key of ID-number hashes ------------------------------------------------------
    def id_hash_key(self, *, _retried: bool = False) -> str:
        """The secret that keys the hash of ID numbers (`storage.workers.id_digest`).

        Never in the database: with the key beside the hashes, the few unknown digits of
        an ID number (its last four are kept) are found by trying them all in seconds.
        The configured key when there is one (several machines must share it); else a
        random 256-bit key made once in this folder (`id-hash.key`, mode 0600, created
        exclusively so two processes on one machine agree), outside any database backup.
        Raises OSError when the folder cannot be written."""
        if self._id_hash_key:
            return self._id_hash_key
        path = self.root / "id-hash.key"
        if not path.exists():
            self._make_root()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: read theirs
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_hex(32))
                    out.flush()
                    os.fsync(out.fileno())
        for _ in range(50):  # the other process may still be writing it
            key = path.read_text().strip()
            if len(key) == 64:
                self._id_hash_key = key
                return key
            time.sleep(0.01)
        if not _retried:  # a process died between making the file and writing it: no
            # hash was ever made with it, so it is set aside and a key made afresh
            with contextlib.suppress(FileNotFoundError):  # another set it aside first
                os.rename(path, self.root / f"id-hash.key.broken-{secrets.token_hex(4)}")
            return self.id_hash_key(_retried=True)
        raise OSError(f"{path.name}: not a key")

    # --- saving -----------------------------------------------------------------------
    def save_image(self, data: bytes) -> tuple[str, int]:
        """Keep a photo someone sent: checked by its content, turned upright, at most
        `MAX_SIDE` pixels a side, encoded again as JPEG without any metadata.

        Returns (name, bytes on disk). Raises `FileRejected` (nothing is written):
        `too_big` over `MAX_BYTES`, `not_image` (with `found`), `damaged`,
        `too_many_pixels`. Blocking (decoding takes up to a few hundred ms).
        """
        if len(data) > MAX_BYTES:
            raise FileRejected("too_big")
        kind = sniff(data)
        if kind not in _DECODERS:
            raise FileRejected("not_image", kind)
        return self._write(_reencode(data, _DECODERS[kind]), "jpg")

    def save_png(self, data: bytes) -> tuple[str, int]:
        """Keep a PNG picture Haoxin drew itself (a credential card), as it is.

        Returns (name, bytes on disk). Raises `FileRejected`: `not_image` (with `found`)
        when `data` is no PNG, `too_big` over `MAX_PNG_BYTES`.
        """
        if (kind := sniff(data)) != "png":
            raise FileRejected("not_image", kind)
        if len(data) > MAX_PNG_BYTES:
            raise FileRejected("too_big")
        return self._write(data, "png")

    def save_document(self, data: bytes) -> tuple[str, int]:
        """Keep a document Haoxin wrote, as it is: a Word document (a contract summary,
        `.docx`), a workbook (the programme's numbers, an export, `.xlsx`) or a CSV (an
        export, `.csv`: UTF-8 text that starts with the byte-order mark, as
        `storage.exports.to_csv` writes it), told apart by its content and kept under
        that extension.

        Returns (name, bytes on disk). Raises `FileRejected`: `not_document` (with
        `found`, what it looks like) when `data` is none of them (a zip holding
        `word/document.xml`, or `xl/workbook.xml`; text with the mark and no NUL),
        `too_big` over `MAX_DOCUMENT_BYTES`.
        """
        if len(data) > MAX_DOCUMENT_BYTES:
            raise FileRejected("too_big")
        if _is_csv(data):
            return self._write(data, "csv")
        if (kind := sniff(data)) != "zip":
            raise FileRejected("not_document", kind)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                held = set(package.namelist())
        except zipfile.BadZipFile as exc:
            raise FileRejected("not_document", "zip") from exc
        for extension, part in _DOCUMENT_PARTS.items():
            if part in held:
                return self._write(data, extension)
        raise FileRejected("not_document", "zip")

    def _write(self, data: bytes, extension: str) -> tuple[str, int]:
        """`data` under a new random name, atomically (a temporary file renamed into
        place), mode 0600. Returns (name, size)."""
        self._make_root()
        while True:
            name = f"{secrets.token_hex(16)}.{extension}"
            final = self.root / name
            if not final.exists():
                break
        fd, temporary = tempfile.mkstemp(prefix=".incoming-", dir=self.root)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _sync_folder(self.root)
        return name, len(data)

    def _make_root(self) -> None:
        if self.root.is_dir():
            return
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)  # whatever the umask

    # --- reading and deleting -----------------------------------------------------------
    def path(self, name: str) -> Path:
        """Where the file `name` is (whether or not it still exists). Raises KeyError for
        anything but a name this store makes (32 hex digits, `.jpg`, `.png`, `.docx`,
        `.xlsx` or `.csv`): no other folder, no other file can be reached through it."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise KeyError("not a stored file's name")
        return self.root / name

    def read(self, name: str) -> bytes:
        """The file's bytes. Raises KeyError for a malformed name (`path`), and
        FileNotFoundError when the file is gone (deleted, or never written)."""
        return self.path(name).read_bytes()

    @staticmethod
    def content_type(name: str) -> str:
        """`image/jpeg`, `image/png`, `DOCX_TYPE`, `XLSX_TYPE` or `CSV_TYPE`, by the
        extension this store gave the name."""
        return _TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")

    def delete(self, names: Iterable[str]) -> None:
        """Delete these files from disk. A missing file, or a name this store never
        makes, is skipped; a file that cannot be deleted is logged (by the error's type
        only) and the rest are still deleted."""
        for name in names:
            try:
                self.path(name).unlink(missing_ok=True)
            except KeyError:
                continue
            except OSError as exc:
                log.warning("a stored file could not be deleted: %s", type(exc).__name__)


def _is_csv(data: bytes) -> bool:
    """Whether `data` is a CSV as Haoxin writes one: the byte-order mark, then UTF-8
    text without NUL bytes."""
    if not data.startswith(_UTF8_BOM) or b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: not every system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reencode(data: bytes, decoder: str) -> bytes:
    """The picture in `data` as JPEG: upright, RGB on white, at most `MAX_SIDE` a side,
    without metadata. Raises `FileRejected` (`too_many_pixels`, `damaged`)."""
    with warnings.catch_warnings():  # Pillow warns between 89 and 179 megapixels
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[decoder])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            raise FileRejected("too_many_pixels") from bomb
        except Exception as exc:  # whatever a decoder raises on a broken header
            raise FileRejected("damaged") from exc
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise FileRejected("damaged")
        if width * height > MAX_PIXELS:
            raise FileRejected("too_many_pixels")
        try:
            return _clean_jpeg(image)
        except Exception as exc:  # truncated, corrupt, an unsupported mode...
            raise FileRejected("damaged") from exc


def _clean_jpeg(image: Image.Image) -> bytes:
    width, height = image.size
    # a large JPEG is decoded at 1/2, 1/4 or 1/8 of its size (many times faster) when
    # that still leaves at least 3/4 of `MAX_SIDE`: a 12-megapixel photo at 2016 px
    least = min(1.0, MAX_SIDE * 0.75 / max(width, height))
    image.draft("RGB", (max(1, int(width * least)), max(1, int(height * least))))
    image.load()
    if image.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, CMYK, 16-bit...
        transparent = "transparency" in image.info or image.mode in ("PA", "RGBa", "La")
        image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BICUBIC)
    upright = ImageOps.exif_transpose(image)  # the photo the way her phone showed it
    if upright.mode in ("RGBA", "LA"):  # transparent parts become white
        rgba = upright.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, "white")
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = upright.convert("RGB")
    clean = Image.new("RGB", rgb.size)  # pixels only: no EXIF, XMP, ICC or comment
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


#: what a file is kept for, when it is for staff only (a list of people, the
#: programme's numbers): a link to it works only while its holder is still staff
STAFF_PURPOSES = ("export:", "numbers", "import-problems", "template:")


def for_staff_only(purpose: str) -> bool:
    """Whether a file kept for `purpose` is for staff only (`STAFF_PURPOSES`)."""
    return purpose.startswith(STAFF_PURPOSES)


class FileRepo:
    """Stored files and whose they are (`StoredFile`), in the session's transaction."""

    async def holder(self, name: str) -> tuple[User, str] | None:
        """Whose the stored file `name` is and what for: (her user row, `purpose`);
        None for a file no one holds."""
        row = await self.session.get(StoredFile, name)
        if row is None:
            return None
        user = await self.session.get(User, row.user_id)
        return (user, row.purpose) if user is not None else None

    def __init__(self, session: AsyncSession, store: FileStore) -> None:
        self.session = session
        self.store = store

    async def keep_image(self, user: User, purpose: str, data: bytes) -> str:
        """Keep a photo `user` sent (`FileStore.save_image`, in a worker thread) for
        `purpose` (`certificate`...). Returns the file's name. Raises `FileRejected`.
        If the transaction is rolled back, the file is deleted again."""
        name, size = await asyncio.to_thread(self.store.save_image, data)
        await self._record(user, purpose, name, size)
        return name

    async def keep_png(
        self, user: User, purpose: str, data: bytes, *, replace: bool = False
    ) -> str:
        """Keep a PNG Haoxin drew for `user` (`card`...). Returns the file's name.
        `replace`: her earlier pictures for `purpose` go, as `keep_document`'s do (a
        chart drawn again). Raises `FileRejected` (`FileStore.save_png`)."""
        if replace:
            return await self._replacing(user, purpose, data, self.store.save_png)
        name, size = self.store.save_png(data)
        await self._record(user, purpose, name, size)
        return name

    async def keep_document(self, user: User, purpose: str, data: bytes) -> str:
        """Keep a document Haoxin wrote for `user` (a `.docx`, `.xlsx` or `.csv`:
        `FileStore.save_document`; `contract:12`, one purpose per document she is
        given). Returns the file's name: her copy for `purpose` when it holds the same
        bytes already; else a new file, and her earlier copies for `purpose` are deleted
        once this transaction commits (a message still waiting to be sent that names one
        then goes with its text alone). Raises `FileRejected`
        (`FileStore.save_document`)."""
        return await self._replacing(user, purpose, data, self.store.save_document)

    async def _replacing(
        self, user: User, purpose: str, data: bytes, save: Callable[[bytes], tuple[str, int]]
    ) -> str:
        """Keep `data` (written by `save`, in a worker thread) in place of her earlier
        files for `purpose`; her earlier file when it holds the same bytes."""
        earlier: list[str] = []
        if user.id is not None:
            earlier = list(
                await self.session.scalars(
                    select(StoredFile.name).where(
                        StoredFile.user_id == user.id, StoredFile.purpose == purpose
                    )
                )
            )
        for name in earlier:
            with contextlib.suppress(KeyError, OSError):
                if self.store.read(name) == data:
                    return name
        name, size = await asyncio.to_thread(save, data)
        await self._record(user, purpose, name, size)
        for old in earlier:
            row = await self.session.get(StoredFile, old)
            if row is not None:
                await self.session.delete(row)
        self._delete_once_committed(earlier)
        return name

    async def owner_of(self, name: str) -> int | None:
        """The id of the user the file belongs to; None for no such stored file."""
        row = await self.session.get(StoredFile, name)
        return row.user_id if row is not None else None

    async def names_of(self, user_id: int) -> list[str]:
        """The names of the user's stored files, oldest first."""
        rows = await self.session.scalars(
            select(StoredFile.name)
            .where(StoredFile.user_id == user_id)
            .order_by(StoredFile.created_at, StoredFile.name)
        )
        return list(rows)

    async def remove(self, name: str) -> None:
        """Delete a stored file: its row, then the file on disk. Unknown names are
        ignored."""
        row = await self.session.get(StoredFile, name)
        if row is not None:
            await self.session.delete(row)
            await self.session.flush()
        self.store.delete([name])

    async def _record(self, user: User, purpose: str, name: str, size: int) -> None:
        self._delete_unless_committed(name)
        if user.id is None:  # a newcomer whose row is not written yet
            await self.session.flush()
        self.session.add(
            StoredFile(
                name=name,
                user_id=user.id,
                purpose=purpose,
                content_type=_recorded_type(name),
                size=size,
            )
        )

    def _delete_unless_committed(self, name: str) -> None:
        """Delete the file from disk when the session's transaction ends without a
        commit (rolled back, or run again after a conflict): no file without its row."""
        self._watched()[_SESSION_FILES].append(name)

    def _delete_once_committed(self, names: list[str]) -> None:
        """Delete these files from disk once the session's transaction commits (their
        rows deleted in it); kept when it is rolled back: no row without its file."""
        if names:
            self._watched()[_SESSION_GONE].extend(names)

    def _watched(self) -> dict[str, Any]:
        info = self.session.info
        if _SESSION_FILES not in info:
            info[_SESSION_FILES] = []
            info[_SESSION_GONE] = []
            _watch(self.session.sync_session, self.store)
        return info


def _recorded_type(name: str) -> str:
    """The content type `StoredFile.content_type` records: the file's MIME type."""
    return FileStore.content_type(name)


def _watch(session: Session, store: FileStore) -> None:
    def committed(session: Session) -> None:
        session.info.get(_SESSION_FILES, []).clear()
        gone = session.info.get(_SESSION_GONE, [])
        store.delete(gone)
        gone.clear()

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the outermost transaction, not a savepoint
            names = session.info.get(_SESSION_FILES, [])
            store.delete(names)
            names.clear()
            session.info.get(_SESSION_GONE, []).clear()

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_transaction_end", ended)
