"""The benchmarks' own machinery on a handful of pictures (their figures come from running them, not from here)."""
import numpy as np

from conftest import FIXTURES
from benchmarks import wild
from benchmarks.latency import photo_rgb, sketch_rgba


def test_wild_sets_are_repeatable_and_shaped_like_user_pictures():
    for kind in ("sketch", "photo", "scan", "empty", "perspective"):
        a = wild.make_set(kind, n=4, seed=3, data_path=FIXTURES / "mnist_tiny.npz")
        b = wild.make_set(kind, n=4, seed=3, data_path=FIXTURES / "mnist_tiny.npz")
        assert len(a) == 4
        for (pa, la), (pb, lb) in zip(a, b):
            assert np.array_equal(pa, pb) and la == lb
            assert pa.dtype == np.uint8 and pa.ndim in (2, 3)
            assert (la is None) == (kind == "empty")
    sketches = wild.make_set("sketch", n=4, seed=3, data_path=FIXTURES / "mnist_tiny.npz")
    assert all(p.shape[2] == 4 and 400 <= max(p.shape[:2]) <= 800 for p, _ in sketches)


def test_wild_score_counts_right_answers(recognizer):
    items = wild.make_set("photo", n=6, seed=1, data_path=FIXTURES / "mnist_tiny.npz")
    items += wild.make_set("empty", n=4, seed=1, data_path=FIXTURES / "mnist_tiny.npz")
    result = wild.score(recognizer, items)
    labels = [recognizer.predict(p).label for p, _ in items]
    expected = np.mean([got == want for got, (_, want) in zip(labels, items)])
    assert abs(result["digitcore"] - expected) < 1e-9
    assert result["original_correct"] <= 6  # the original approach never answers "no digit"
    numbers = [recognizer.read(p).number for p, _ in items]
    page = np.mean([got == (None if want is None else str(want)) for got, (_, want) in zip(numbers, items)])
    assert abs(result["read"] - page) < 1e-9 and result["read_correct"] >= 4  # blank paper reads as no number
    assert "page" in wild.format_table({"photo": result}).splitlines()[0]


def test_latency_inputs_are_read_right(recognizer):
    assert recognizer.predict(sketch_rgba()).label == 3
    assert recognizer.predict(photo_rgb()).label == 7


def test_numbers_set_is_repeatable_and_scored_per_source(recognizer):
    from benchmarks import numbers

    a = numbers.make_set("gaps", n=6, seed=2, data_path=FIXTURES / "mnist_tiny.npz")
    b = numbers.make_set("gaps", n=6, seed=2, data_path=FIXTURES / "mnist_tiny.npz")
    assert all(np.array_equal(p, q) and w == v and s == t for (p, w, s), (q, v, t) in zip(a, b))
    result = numbers.score(recognizer, a)
    right = [recognizer.read(picture).number == want for picture, want, _ in a]
    for source, share in result["by_source"].items():
        assert share == np.mean([ok for ok, (*_, s) in zip(right, a) if s == source])
    assert set(result["by_source"]) == {s for *_, s in a} and 0 <= result["read"] <= 1
    table = numbers.format_table({"gaps": result})
    assert "read by source: mnist / hershey / sklearn" in table


def test_not_digits_scores_the_page_and_predict_apart(recognizer):
    from benchmarks import not_digits

    pictures = not_digits.make_set("heart", "sketch", n=3, seed=4) + not_digits.make_set("letter", "photo", n=3, seed=4)
    result = not_digits.score(recognizer, pictures)
    page = [recognizer.read(p) for p in pictures]
    assert result["rejected"] == sum(r.number is None and r.reason == "not a digit" for r in page)
    assert result["predict_rejected"] == sum(recognizer.predict(p).reason == "not a digit" for p in pictures)
    assert result["answers"] == [r.reason if r.number is None else r.number for r in page]
    table = not_digits.format_table({("heart", "sketch"): result})
    assert "predict" in table.splitlines()[0] and table.splitlines()[1].startswith("heart")
