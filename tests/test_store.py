"""The corrections database: many writers at once, a writer killed mid-save, bad input and bad files refused."""
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from digitcore.store import (
    MAX_PICTURE_BYTES,
    PNG_SIGNATURE,
    SCHEMA_VERSION,
    CorrectionRefused,
    CorrectionStore,
    StoreError,
    file_hash,
    png_bytes,
)

CLIENTS, SAVES = 20, 100

# One client: opens the store, says it is ready, waits for the go file, then saves SAVES corrections, each marked with its client and number.
CLIENT = """
import sys, time, pathlib
import numpy as np
from digitcore.store import CorrectionStore, png_bytes
db, client, saves, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), pathlib.Path(sys.argv[4])
store = CorrectionStore(db)
(go.parent / f"ready{client}").touch()
while not go.exists():
    time.sleep(0.005)
for i in range(saves):
    marked = np.full((28, 28), client, np.uint8); marked[0, 0] = i
    store.save(png_bytes(np.full((40, 60), i, np.uint8)), i % 11, marked, said=(i + 1) % 10, probability=0.5,
               position=i, source=f"client{client}")
"""

# A writer that saves big pictures without end, printing each committed id, until it is killed.
ENDLESS = """
import sys
import numpy as np
from digitcore.store import CorrectionStore, png_bytes
store = CorrectionStore(sys.argv[1])
picture = png_bytes(np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8))
while True:
    print(store.save(picture, 7, np.ones((28, 28), np.float32), said=1, probability=0.75), flush=True)
"""


def run_python(code: str, *args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env, stdout=subprocess.PIPE, text=True)


def saved_marks(store: CorrectionStore) -> set[tuple[int, int]]:
    """(client, i) of every row, read back from its model input and checked against its other fields."""
    marks = set()
    for row in store.rows(pictures=True):
        client, i = int(row.model_input[1, 1]), int(row.model_input[0, 0])
        assert row.source == f"client{client}" and row.position == i and row.correct == i % 11
        assert row.said == (i + 1) % 10 and row.probability == 0.5
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(row.picture))), np.full((40, 60), i, np.uint8))
        marks.add((client, i))
    return marks


def test_twenty_processes_saving_at_once_lose_nothing(tmp_path):
    db, go = tmp_path / "c.sqlite", tmp_path / "go"
    clients = [run_python(CLIENT, db, c, SAVES, go) for c in range(CLIENTS)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready*"))) < CLIENTS:  # all imported and opened: the saves will overlap
        assert time.monotonic() < deadline and all(p.poll() is None for p in clients)
        time.sleep(0.05)
    go.touch()
    for p in clients:
        assert p.wait(timeout=180) == 0
    store = CorrectionStore(db)
    assert store.count() == CLIENTS * SAVES
    assert saved_marks(store) == {(c, i) for c in range(CLIENTS) for i in range(SAVES)}


def test_twenty_threads_saving_at_once_lose_nothing(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    start, errors = threading.Barrier(CLIENTS), []

    def client(c: int) -> None:
        start.wait()
        try:
            for i in range(SAVES):
                marked = np.full((28, 28), c, np.uint8)
                marked[0, 0] = i
                store.save(png_bytes(np.full((40, 60), i, np.uint8)), i % 11, marked, said=(i + 1) % 10,
                           probability=0.5, position=i, source=f"client{c}")
        except Exception as e:  # reported below: an exception in a thread would otherwise pass unseen
            errors.append(e)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert saved_marks(CorrectionStore(tmp_path / "c.sqlite")) == {(c, i) for c in range(CLIENTS) for i in range(SAVES)}


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.031])
def test_a_writer_killed_mid_save_leaves_every_committed_row(tmp_path, delay):
    db = tmp_path / "c.sqlite"
    writer = run_python(ENDLESS, db)
    committed = [int(writer.stdout.readline()) for _ in range(15)]
    time.sleep(delay)  # most of a writer's time is inside a save: the kill lands in one
    writer.send_signal(signal.SIGKILL)
    committed += [int(line) for line in writer.stdout.read().split()]  # ids it printed before dying
    writer.wait()
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = CorrectionStore(db)
    rows = {row.id: row for row in store.rows(pictures=True)}
    assert set(committed) <= set(rows) and len(rows) <= len(committed) + 1  # at most the one it was saving
    for row in rows.values():
        assert row.correct == 7 and row.said == 1 and (row.model_input == 255).all()
        assert np.asarray(Image.open(io.BytesIO(row.picture))).shape == (300, 300, 3)
    assert store.save(png_bytes(np.zeros((8, 8), np.uint8)), 3, np.zeros((28, 28))) > max(rows)  # still writable


@pytest.mark.parametrize(
    "change, message",
    [
        ({"correct": 11}, "must be a digit 0-9 or 'not a digit', not 11"),
        ({"correct": -1}, "not -1"),
        ({"correct": "x"}, "not 'x'"),
        ({"correct": True}, "not True"),
        ({"correct": 3.0}, "not 3.0"),
        ({"correct": None}, "not None"),
        ({"said": 12}, "what the model said must be"),
        ({"picture": None}, "no picture"),
        ({"picture": b""}, "no picture"),
        ({"picture": np.zeros((0, 0), np.uint8)}, "no picture"),
        ({"picture": b"GIF89a not a png"}, "must be PNG file bytes"),
        ({"picture": PNG_SIGNATURE + bytes(MAX_PICTURE_BYTES)}, "10.0 MB as PNG; at most 10 MB"),
        ({"model_input": np.zeros((28, 27))}, "must be 28x28"),
        ({"probability": 1.5}, "probability must be in [0, 1]"),
    ],
)
def test_bad_corrections_are_refused_with_a_message(tmp_path, change, message):
    store = CorrectionStore(tmp_path / "c.sqlite")
    good = {"picture": png_bytes(np.zeros((10, 10), np.uint8)), "correct": 7, "model_input": np.zeros((28, 28)), "said": 1}
    with pytest.raises(CorrectionRefused, match=None) as refused:
        store.save(**{**good, **change})
    assert message in str(refused.value)
    assert store.count() == 0
    store.save(**good)  # the same store still takes a good one
    assert store.count() == 1


def test_labels_by_name_and_arrays_as_pictures(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    picture = np.zeros((30, 50, 4), np.uint8)
    picture[5:20, 10:30] = (0, 0, 0, 255)
    store.save(picture, "not a digit", np.full((28, 28), 0.5, np.float32), said="4", probability=0.9, model_hash="abc")
    store.save(png_bytes(picture), " 7 ", np.zeros((28, 28), np.uint8))
    first, second = store.rows(pictures=True)
    assert (first.correct, first.said, first.probability, first.model_hash) == (10, 4, 0.9, "abc")
    assert (first.model_input == 128).all() and first.model_input.dtype == np.uint8
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(first.picture))), picture)
    assert (second.correct, second.said, second.probability) == (7, None, None)
    assert store.rows()[0].picture is None  # listing without the pictures


def test_a_full_store_says_so(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite", max_rows=3)
    for _ in range(3):
        store.save(png_bytes(np.zeros((10, 10), np.uint8)), 1, np.zeros((28, 28)))
    with pytest.raises(StoreError, match=r"full \(3 corrections.*limits 3 and"):
        store.save(png_bytes(np.zeros((10, 10), np.uint8)), 1, np.zeros((28, 28)))
    small = CorrectionStore(tmp_path / "c.sqlite", max_bytes=100_000)
    big = png_bytes(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8))  # ~40 kB
    with pytest.raises(StoreError, match="is full"):
        for _ in range(3):
            small.save(big, 1, np.zeros((28, 28)))
    with sqlite3.connect(small.path) as connection:
        pages, page_size = (connection.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    assert pages * page_size <= 100_000 and small.count() >= 4  # room was used, and the limit kept


def test_files_that_are_not_our_database_give_a_clear_error(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="notes.sqlite: not an SQLite database"):
        CorrectionStore(text)
    assert text.read_text().startswith("these are my notes")  # left as it was

    newer = tmp_path / "newer.sqlite"
    CorrectionStore(newer)
    with sqlite3.connect(newer) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match=f"newer digitcore \\(schema version {SCHEMA_VERSION + 1}"):
        CorrectionStore(newer)

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(StoreError, match="of something else \\(tables: recipes\\)"):
        CorrectionStore(other)

    with pytest.raises(StoreError, match="is a folder"):
        CorrectionStore(tmp_path)
    with pytest.raises(StoreError, match="no corrections database here"):
        CorrectionStore(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_file_hash_is_sha256_of_the_bytes(tmp_path):
    import hashlib

    model = tmp_path / "m.keras"
    model.write_bytes(b"weights" * 1000)
    assert file_hash(model) == hashlib.sha256(b"weights" * 1000).hexdigest()


def test_the_file_is_made_by_the_first_save_not_by_opening(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    assert not store.path.exists() and store.count() == 0 and store.rows() == []
    store.save(png_bytes(np.zeros((10, 10), np.uint8)), 1, np.zeros((28, 28)))
    assert store.path.exists() and store.count() == 1
    with pytest.raises(StoreError, match="does not exist"):
        CorrectionStore(tmp_path / "no" / "such" / "c.sqlite")


def test_big_pictures_are_kept_shrunk(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    photo = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)  # ~36 MB as PNG
    store.save(photo, 1, np.zeros((28, 28)))
    assert Image.open(io.BytesIO(store.rows(pictures=True)[0].picture)).size == (2048, 1536)


def test_making_the_file_waits_out_a_lock_refused_without_waiting(tmp_path, monkeypatch):
    # Many processes making a new file at once: switching it to WAL can be refused as "locked" at once (as CI saw),
    # which SQLite's busy wait does not cover. The store waits and tries again.
    store, refusals = CorrectionStore(tmp_path / "c.sqlite"), []
    make = CorrectionStore._open_schema

    def refused_twice(self):
        if len(refusals) < 2:
            refusals.append(1)
            raise sqlite3.OperationalError("database is locked")
        make(self)

    monkeypatch.setattr(CorrectionStore, "_open_schema", refused_twice)
    store.save(png_bytes(np.zeros((8, 8), np.uint8)), 3, np.zeros((28, 28), np.uint8))
    assert len(refusals) == 2 and store.count() == 1


def test_other_database_errors_are_not_retried(tmp_path, monkeypatch):
    def broken(self):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(CorrectionStore, "_open_schema", broken)
    with pytest.raises(StoreError, match="disk I/O error"):
        CorrectionStore(tmp_path / "c.sqlite").save(png_bytes(np.zeros((8, 8), np.uint8)), 3, np.zeros((28, 28), np.uint8))
