"""Corrections people give the page, kept in one SQLite table (WAL mode) that many threads and processes write at once.

Each row: the picture the user gave (PNG bytes), the (28, 28) model input, what the model said and how sure
it was, the correct answer, the time and the model file's hash. Labels are 0-9, and 10 for "not a digit".
"""
from __future__ import annotations

import io
import random
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np

from digitcore.predict import NOT_A_DIGIT, Reading
from digitcore.runtime import sha256 as file_hash  # noqa: F401  (the served model's hash, as digits.json records it)

DEFAULT_DB = Path(__file__).resolve().parent.parent / "corrections.sqlite"  # beside models/
SCHEMA_VERSION = 1  # PRAGMA user_version; a file with a higher one was made by a newer digitcore
LABELS = tuple(str(d) for d in range(10)) + (NOT_A_DIGIT,)  # a label is its index here: "not a digit" is 10
MAX_ROWS = 100_000
MAX_BYTES = 1 << 30  # 1 GiB of database file: a public link cannot fill the disk
MAX_PICTURE_BYTES = 10 * 1024 * 1024  # the page's own upload limit
MAX_PICTURE_SIDE = 2048  # larger pictures are kept shrunk to this: a 12 MP photo as PNG would be ~20 MB
BUSY_SECONDS = 30.0  # a writer waits this long for the others' short transactions before giving up
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SCHEMA = (
    """CREATE TABLE corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a row's held-out share (digitcore.corrections) is stable
    created TEXT NOT NULL,                 -- UTC, ISO 8601
    said INTEGER CHECK (said BETWEEN 0 AND 10),             -- what the model answered; NULL: nothing
    probability REAL CHECK (probability BETWEEN 0 AND 1),   -- how sure it was of that answer
    correct INTEGER NOT NULL CHECK (correct BETWEEN 0 AND 10),
    position INTEGER NOT NULL DEFAULT 0,   -- which digit of a number, from the left, 0 for the first
    model_hash TEXT,                       -- SHA-256 of the served model file
    source TEXT,                           -- "sketch", "upload", "api", or a benchmark's name
    model_input BLOB NOT NULL,             -- (28, 28) uint8, white digit on black, 784 bytes
    picture BLOB NOT NULL                  -- the picture the user gave, PNG
)""",
    # Counting by label is what review does; the index also lets count(*) skip the pictures.
    "CREATE INDEX corrections_by_label ON corrections (said, correct)",
)


class StoreError(Exception):
    """The database cannot be used: not SQLite, a newer schema, unwritable, or full. The message names the path."""


class CorrectionRefused(ValueError):
    """A correction that cannot be kept: a bad label, no picture, a picture over the size limit."""


@dataclass(frozen=True)
class Correction:
    """One saved correction. said and correct are label indices (0-9, 10 = "not a digit"; said None = no answer);
    model_input is (28, 28) uint8; picture is PNG bytes, or None when rows were read without pictures."""

    id: int
    created: str
    said: int | None
    probability: float | None
    correct: int
    position: int
    model_hash: str | None
    source: str | None
    model_input: np.ndarray
    picture: bytes | None


def label_index(label: int | str | None, what: str = "the correct answer") -> int:
    """0-9 or "0"-"9" -> that digit; "not a digit" (or 10) -> 10; anything else is refused with a message."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= label < len(LABELS):
        return int(label)
    if isinstance(label, str) and label.strip().lower() in LABELS:
        return LABELS.index(label.strip().lower())
    raise CorrectionRefused(f"{what} must be a digit 0-9 or {NOT_A_DIGIT!r}, not {label!r}")


def png_bytes(picture: np.ndarray, max_side: int = MAX_PICTURE_SIDE) -> bytes:
    """(H, W) or (H, W, 1-4) picture -> PNG file bytes, as the picture the user gave is kept (shrunk to max_side)."""
    from PIL import Image

    picture = np.asarray(picture)
    if picture.dtype != np.uint8:  # float in [0, 1], bool, uint16: the app hands over what images.as_array gave
        top = 1.0 if picture.dtype.kind in "fb" else float(np.iinfo(picture.dtype).max)
        picture = np.clip(np.asarray(picture, np.float64) / top * 255, 0, 255).round().astype(np.uint8)
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[..., 0]
    image = Image.fromarray(picture)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)  # only ever shrinks
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def as_model_input(model_input: np.ndarray) -> bytes:
    """(28, 28) float in [0, 1] or uint8 -> 784 bytes of uint8, MNIST's own format."""
    array = np.asarray(model_input)
    if array.shape not in ((28, 28), (28, 28, 1)):
        raise CorrectionRefused(f"the model input must be 28x28, not {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(np.nan_to_num(array.astype(np.float32)) * 255, 0, 255).round().astype(np.uint8)
    return array.reshape(28, 28).tobytes()


class CorrectionStore:
    """The corrections database at path: an existing file is checked on opening; a new one is made by the first save
    (when create), so a demo nobody corrects leaves no file. One short transaction a call.

    Every call opens its own connection, so one store serves any number of threads, and processes share the file
    through SQLite's locks (WAL: readers never wait; a writer waits up to BUSY_SECONDS for the others)."""

    def __init__(self, path: str | Path = DEFAULT_DB, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES, create: bool = True):
        self.path, self.max_rows, self.max_bytes = Path(path), max_rows, max_bytes
        if not self.path.exists() and not create:
            raise StoreError(f"{self.path}: no corrections database here (the app makes one when someone corrects an answer)")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder; give a file path for the corrections database")
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path}: the folder {self.path.parent} does not exist")
        self._ready = False
        if self.path.exists():
            self._ensure_schema()

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                self._open_schema()
                break
            except sqlite3.OperationalError as e:
                # Switching a new file to WAL, or opening one mid-switch, can be refused as "locked" at once, without
                # SQLite's busy wait: when many processes make the file together, wait and try again.
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise self._unusable(e) from None
                time.sleep(random.uniform(0.01, 0.05))
            except sqlite3.DatabaseError as e:
                raise self._unusable(e) from None
        self._ready = True

    def _unusable(self, e: sqlite3.DatabaseError) -> StoreError:
        if "not a database" in str(e) or "malformed" in str(e):
            return StoreError(f"{self.path}: not an SQLite database ({e}); give another --corrections path")
        return StoreError(f"{self.path}: cannot use the corrections database ({e})")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: transactions are begun by hand, BEGIN IMMEDIATE, so the write lock is taken up
        # front and waited for; a deferred transaction upgrading to a write would fail at once instead.
        with closing(sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)) as connection:
            # In WAL mode, NORMAL loses no committed row when a process is killed (a power cut may lose the last
            # few); FULL would fsync every save, 5x slower for 20 concurrent writers here.
            connection.execute("PRAGMA synchronous = NORMAL")
            yield connection

    @contextmanager
    def _transaction(self, connection: sqlite3.Connection) -> Iterator[None]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _open_schema(self) -> None:
        with self._connect() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]  # reads the header: fails on a non-SQLite file
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: made by a newer digitcore (schema version {version}; this one reads up to "
                                 f"{SCHEMA_VERSION}): upgrade digitcore, or give another --corrections path")
            if version == SCHEMA_VERSION:
                return
            connection.execute("PRAGMA journal_mode = WAL")  # kept in the file; cannot change inside a transaction
            with self._transaction(connection):
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version == SCHEMA_VERSION:  # another process created it while we waited for the lock
                    return
                tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                if tables:
                    raise StoreError(f"{self.path}: an SQLite database of something else (tables: {', '.join(tables)}); "
                                     "give another --corrections path")
                for statement in SCHEMA:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def save(
        self,
        picture: bytes | np.ndarray | None,
        correct: int | str,
        model_input: np.ndarray,
        said: int | str | None = None,
        probability: float | None = None,
        model_hash: str | None = None,
        position: int = 0,
        source: str | None = None,
    ) -> int:
        """Keep one correction; returns its id. picture: PNG bytes or a numpy picture (saved as PNG)."""
        correct = label_index(correct)
        said = None if said is None else label_index(said, "what the model said")
        if picture is None or (isinstance(picture, (bytes, bytearray)) and not picture):
            raise CorrectionRefused("no picture: a correction keeps the picture it corrects")
        if isinstance(picture, np.ndarray):
            if picture.size == 0:
                raise CorrectionRefused("no picture: a correction keeps the picture it corrects")
            picture = png_bytes(picture)
        picture = bytes(picture)
        if not picture.startswith(PNG_SIGNATURE):
            raise CorrectionRefused("the picture must be PNG file bytes")
        if len(picture) > MAX_PICTURE_BYTES:
            raise CorrectionRefused(f"the picture is {len(picture) / 2**20:.1f} MB as PNG; at most "
                                    f"{MAX_PICTURE_BYTES / 2**20:.0f} MB is kept")
        if probability is not None and not 0 <= float(probability) <= 1:
            raise CorrectionRefused(f"probability must be in [0, 1], not {probability}")
        row = (
            datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            said,
            None if probability is None else float(probability),
            correct,
            int(position),
            model_hash,
            source,
            as_model_input(model_input),
            picture,
        )
        self._ensure_schema()
        with self._connect() as connection, self._transaction(connection):
            self._check_room(connection, len(picture) + 784)
            cursor = connection.execute(
                "INSERT INTO corrections (created, said, probability, correct, position, model_hash, source, model_input,"
                " picture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid)

    def save_reading(
        self,
        picture: np.ndarray,
        reading: Reading,
        correct: int | str,
        position: int = 0,
        model_hash: str | None = None,
        source: str | None = None,
    ) -> Correction:
        """Keep a correction of one digit of a reading (position 0 = leftmost): its model input, what the model said
        ("not a digit" for a rejected piece) and how sure it was. Returns the row as saved, without its picture."""
        if not reading.digits:
            raise CorrectionRefused("nothing was read in this picture, so there is nothing to correct")
        if not 0 <= position < len(reading.digits):
            raise CorrectionRefused(f"there is no digit {position + 1}: the picture has {len(reading.digits)}")
        digit = reading.digits[position]
        if digit.label is None:
            said, probability = LABELS.index(NOT_A_DIGIT), digit.not_digit
        else:
            said, probability = digit.label, float(digit.probabilities[digit.label])
        return self.row(self.save(picture, correct, digit.model_input, said, probability, model_hash, position, source))

    def _check_room(self, connection: sqlite3.Connection, adding: int) -> None:
        rows = connection.execute("SELECT count(*) FROM corrections").fetchone()[0]
        size = connection.execute("PRAGMA page_count").fetchone()[0] * connection.execute("PRAGMA page_size").fetchone()[0]
        if rows >= self.max_rows or size + adding > self.max_bytes:
            raise StoreError(
                f"{self.path}: the corrections database is full ({rows:,} corrections, {size / 2**20:.0f} MB; limits "
                f"{self.max_rows:,} and {self.max_bytes / 2**20:.0f} MB). Its owner can review it "
                "(python -m digitcore corrections), then move it aside or raise the limit"
            )

    def count(self) -> int:
        """How many corrections are kept."""
        if not self.path.exists():
            return 0
        self._ensure_schema()
        with self._connect() as connection:
            return connection.execute("SELECT count(*) FROM corrections").fetchone()[0]

    def rows(self, pictures: bool = False, where: str = "1", parameters: tuple = ()) -> list[Correction]:
        """Every correction (or those matching an SQL condition), oldest first; the pictures (the bulk of the file)
        only when asked for."""
        columns = "id, created, said, probability, correct, position, model_hash, source, model_input, "
        columns += "picture" if pictures else "NULL"
        if not self.path.exists():
            return []
        self._ensure_schema()
        with self._connect() as connection:
            found = connection.execute(f"SELECT {columns} FROM corrections WHERE {where} ORDER BY id", parameters).fetchall()
        return [Correction(*r[:8], np.frombuffer(r[8], np.uint8).reshape(28, 28), r[9]) for r in found]

    def row(self, row_id: int, pictures: bool = False) -> Correction:
        """One correction by its id."""
        found = self.rows(pictures, "id = ?", (row_id,))
        if not found:
            raise KeyError(f"{self.path}: no correction {row_id}")
        return found[0]

    def __repr__(self) -> str:
        return f"CorrectionStore({str(self.path)!r})"
