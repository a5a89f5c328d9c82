"""The file store: photos kept without their metadata, refused when they are not
photos, names that reach nothing else, and files that go when their owner goes."""

from __future__ import annotations

import io
import random
import stat
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from bot.config import Settings
from handlers.events import MAX_FILE_BYTES
from storage.files import MAX_BYTES, MAX_PIXELS, FileRejected, FileStore, sniff
from storage.models import StoredFile
from storage.repositories import Repos
from tests.conftest import make_settings

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(size: tuple[int, int] = (64, 48), exif: Image.Exif | None = None, **kw: object) -> bytes:
    """A photo: left half red, right half blue (to tell which way up it is)."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes() if exif else b"", **kw)
    return out.getvalue()


def with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0132] = "2025:03:08 09:30:00"  # DateTime
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (21.0, 39.0, 47.0)  # Maoming
    gps[3], gps[4] = "E", (110.0, 55.0, 30.0)
    return exif


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


def rejected(store: FileStore, data: bytes) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        store.save_image(data)
    assert not store.root.exists() or not any(store.root.iterdir())  # nothing kept
    return caught.value


def test_the_limit_is_the_one_the_transports_use():
    assert MAX_BYTES == MAX_FILE_BYTES


def test_a_photo_loses_its_exif_and_gps_position(store):
    data = jpeg(exif=with_gps(), comment=b"taken at home")
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(GPS_IFD)[1] == "N"  # the photo did carry a place

    name, size = store.save_image(data)
    kept = store.read(name)
    assert size == len(kept) == store.path(name).stat().st_size
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
    for trace in (b"Exif\x00\x00", b"PhoneMaker", b"Phone 15", b"taken at home", b"2025:03"):
        assert trace not in kept


def test_a_photo_keeps_the_way_up_her_phone_showed_it(store):
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was held upright: turn 90° clockwise to show it
    name, _ = store.save_image(jpeg((80, 40), exif))
    image = Image.open(store.path(name)).convert("RGB")
    assert image.size == (40, 80)  # upright: portrait
    top, bottom = image.getpixel((20, 5)), image.getpixel((20, 75))
    assert top[0] > 200 and top[2] < 80  # red (the left half) is on top now
    assert bottom[2] > 200 and bottom[0] < 80
    assert ORIENTATION not in image.getexif()


def test_a_large_photo_is_made_smaller(store):
    name, _ = store.save_image(jpeg((4000, 1000)))
    assert max(Image.open(store.path(name)).size) <= 2048


def test_pictures_of_other_kinds_are_kept_as_jpeg_on_white(store):
    transparent = Image.new("RGBA", (30, 20), (255, 0, 0, 0))
    out = io.BytesIO()
    transparent.save(out, "PNG")
    name, _ = store.save_image(out.getvalue())
    image = Image.open(store.path(name))
    assert image.format == "JPEG" and image.getpixel((3, 3)) == (255, 255, 255)


def test_a_file_over_5_mb_is_refused_unread(store):
    data = jpeg() + b"\0" * (6 * 1024 * 1024)
    assert rejected(store, data).reason == "too_big"


def test_a_pdf_is_not_a_picture(store):
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
    err = rejected(store, pdf)
    assert (err.reason, err.found) == ("not_image", "pdf")


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"PK\x03\x04" + b"\0" * 100, "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "doc"),
        ("我的证书，照片稍后发".encode(), "text"),
        (b"\0\0\0\x18ftypheic" + b"\0" * 100, "heic"),
        (b"\0\0\0\x18ftypisom" + b"\0" * 100, "video"),
        (b"II*\x00" + b"\0" * 100, "tiff"),
    ],
)
def test_what_a_file_is_is_read_from_its_content(store, data, found):
    assert sniff(data) == found
    err = rejected(store, data)
    assert (err.reason, err.found) == ("not_image", found)


def test_random_bytes_named_jpg_and_a_cut_off_jpeg_are_refused(store, tmp_path):
    noise = random.Random(7).randbytes(50_000)
    (tmp_path / "photo.jpg").write_bytes(noise)  # the name says nothing: never read
    err = rejected(store, (tmp_path / "photo.jpg").read_bytes())
    assert (err.reason, err.found) == ("not_image", "")

    whole = Image.effect_noise((400, 300), 60).convert("RGB")
    out = io.BytesIO()
    whole.save(out, "JPEG")
    assert rejected(store, out.getvalue()[: len(out.getvalue()) // 2]).reason == "damaged"
    assert rejected(store, b"\xff\xd8\xff\xe0" + noise[:2000]).reason == "damaged"
    assert rejected(store, b"\x89PNG\r\n\x1a\n" + noise[:2000]).reason == "damaged"


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims width × height pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\0" + b"\0" * ((width + 7) // 8)
    body = zlib.compress(row * 64, 9)  # only a few rows: it is the claim that counts
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "side",
    [
        7_000,  # 49 megapixels: over Haoxin's limit
        10_000,  # 100: Pillow warns (DecompressionBombWarning)
        20_000,  # 400: Pillow refuses (DecompressionBombError)
    ],
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(store, side):
    data = png_header_only(side, side)
    assert len(data) < MAX_BYTES and side * side > MAX_PIXELS
    assert rejected(store, data).reason == "too_many_pixels"


def test_names_reach_only_the_stores_own_files(store):
    name, _ = store.save_image(jpeg())
    assert store.path(name).parent == store.root
    bad = [
        "../haoxin.db",
        "..",
        "/etc/passwd",
        f"../{name}",
        f"sub/{name}",
        name.upper(),
        name + "\0",
        name.replace(".jpg", ".exe"),
        name[:-5] + ".jpg",
        "",
    ]
    for wrong in bad:
        with pytest.raises(KeyError):
            store.path(wrong)
        with pytest.raises(KeyError):
            store.read(wrong)
    store.delete(bad)  # ignored, never followed
    assert store.read(name)


def test_files_are_private_and_written_whole(store):
    first, _ = store.save_image(jpeg())
    second, _ = store.save_image(jpeg())
    assert first != second
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path(first).stat().st_mode) == 0o600
    assert sorted(p.name for p in store.root.iterdir()) == sorted([first, second])  # no temp
    store.delete([first, "0" * 32 + ".jpg"])  # a missing file is no error
    assert not store.path(first).exists() and store.path(second).exists()
    with pytest.raises(FileNotFoundError):
        store.read(first)


def test_pngs_haoxin_draws_are_kept_as_drawn(store):
    card = Image.new("RGB", (120, 80), "white")
    out = io.BytesIO()
    card.save(out, "PNG")
    name, size = store.save_png(out.getvalue())
    assert (
        name.endswith(".png") and store.read(name) == out.getvalue() and size == len(out.getvalue())
    )
    with pytest.raises(FileRejected) as caught:
        store.save_png(jpeg())
    assert (caught.value.reason, caught.value.found) == ("not_image", "jpeg")


def test_where_the_files_are(tmp_path, monkeypatch):
    monkeypatch.delenv("HAOXIN_FILES_DIR", raising=False)  # conftest points it at tmp_path
    beside = make_settings(tmp_path / "data" / "haoxin.db")
    assert beside.file_store().root == tmp_path / "data" / "haoxin-files"
    chosen = make_settings(tmp_path / "x.db", files_dir=str(tmp_path / "elsewhere"))
    assert chosen.file_store().root == tmp_path / "elsewhere"
    other = Settings(_env_file=None, database_url="postgresql+asyncpg://h/db")  # type: ignore[call-arg]
    assert other.file_store().root == Path("haoxin-files")
    monkeypatch.setenv("HAOXIN_FILES_DIR", str(tmp_path / "env"))
    assert FileStore.default().root == tmp_path / "env"
    monkeypatch.delenv("HAOXIN_FILES_DIR")
    assert FileStore.default().root == Path("haoxin-files")


# --- the repository: rows and files together ---------------------------------------------


async def test_kept_files_have_an_owner_and_go_with_her(app):
    store = app.dispatcher.files
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, store)
        mei = repos.users.new("tg:301", "zh")
        other = repos.users.new("tg:302", "zh")
        photo = await repos.files.keep_image(mei, "certificate", jpeg(exif=with_gps()))
        card = await repos.files.keep_png(mei, "card", _png())
        theirs = await repos.files.keep_image(other, "certificate", jpeg())
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, store)
        assert await repos.files.owner_of(photo) == mei.id
        assert await repos.files.owner_of("0" * 32 + ".jpg") is None
        assert sorted(await repos.files.names_of(mei.id)) == sorted([photo, card])
        row = await s.get(StoredFile, photo)
        assert (row.purpose, row.content_type, row.size) == (
            "certificate",
            "image/jpeg",
            store.path(photo).stat().st_size,
        )
        await repos.files.remove(card)
    assert not store.path(card).exists() and store.path(photo).exists()

    # erasing her (WeChat unfollow, /delete_me) deletes her files from disk too
    assert await app.dispatcher.forget("tg:301") is True
    assert not store.path(photo).exists()
    assert store.path(theirs).exists()  # nobody else's
    async with app.db.sessions() as s:
        assert list(await s.scalars(select(StoredFile.name))) == [theirs]


async def test_erasing_through_the_repository_deletes_the_files(app):
    store = app.dispatcher.files
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, store)
        mei = repos.users.new("tg:303", "en")
        name = await repos.files.keep_image(mei, "certificate", jpeg())
        assert store.path(name).exists()
        await repos.users.erase(mei)
        assert not store.path(name).exists()
    async with app.db.sessions() as s:
        assert await s.get(StoredFile, name) is None


async def test_a_file_kept_in_a_transaction_that_fails_is_deleted_again(app):
    store = app.dispatcher.files
    kept: list[str] = []
    with pytest.raises(RuntimeError):
        async with app.db.sessions() as s, s.begin():
            repos = Repos(s, store)
            mei = repos.users.new("tg:304", "en")
            kept.append(await repos.files.keep_image(mei, "certificate", jpeg()))
            assert store.path(kept[0]).exists()
            raise RuntimeError("the handler failed")
    assert not store.path(kept[0]).exists()
    async with app.db.sessions() as s, s.begin():  # committed: kept
        repos = Repos(s, store)
        mei = repos.users.new("tg:304", "en")
        name = await repos.files.keep_image(mei, "certificate", jpeg())
    assert store.path(name).exists()


async def test_a_refused_photo_leaves_nothing(app):
    store = app.dispatcher.files
    async with app.db.sessions() as s, s.begin():
        repos = Repos(s, store)
        mei = repos.users.new("tg:305", "en")
        with pytest.raises(FileRejected):
            await repos.files.keep_image(mei, "certificate", b"%PDF-1.4 nope")
        assert await repos.files.names_of(mei.id) == []


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "green").save(out, "PNG")
    return out.getvalue()
