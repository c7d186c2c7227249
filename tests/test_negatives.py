"""Non-digits: the generator repeats and makes what it claims, training batches carry them, the model rejects them."""
import json

import cv2
import numpy as np
import pytest

from conftest import FIXTURES, ROOT
from digitcore import evaluate, negatives, shapes
from digitcore.images import read_image
from digitcore.preprocess import to_model_input

NOT_DIGITS = sorted((FIXTURES / "not_digits").iterdir())
# Held-out pictures the committed model still reads as digits (benchmarks/README.md, "Not a digit"): strict xfail,
# so a model that rejects them makes these tests fail until the list is updated. None now: the arrow photo, which
# points up and read as a 1, is refused by its shape (shapes.arrow), like the sketch's arrow, which lies flat.
MISSED: set[str] = set()


def test_pool_is_repeatable_and_has_every_training_kind(mnist_sample):
    a, kinds = negatives.make_pool(300, seed=5, digits=mnist_sample[0])
    b, _ = negatives.make_pool(300, seed=5, digits=mnist_sample[0])
    c, _ = negatives.make_pool(300, seed=6, digits=mnist_sample[0])
    assert a.shape == (300, negatives.CANVAS, negatives.CANVAS) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(kinds) == set(negatives.TRAIN_KINDS)
    assert all(canvas.max() >= 250 for canvas in a)  # every canvas holds full-strength ink (MNIST peaks at 253-255)


@pytest.mark.parametrize("kind", [*negatives.TRAIN_KINDS, *[("held out", k) for k in negatives.HELD_OUT_KINDS]])
def test_every_kind_makes_ink_that_preprocessing_finds(kind, mnist_sample):
    held_out = isinstance(kind, tuple)
    name = kind[1] if held_out else kind
    for i in range(8):
        ink = negatives.make_ink(name, np.random.default_rng([2, i]), 120, held_out=held_out, digits=mnist_sample[0])
        assert ink.dtype == np.uint8 and ink.ndim == 2 and 10 <= max(ink.shape) <= 200  # punctuation is small in its font
        assert to_model_input(ink) is not None


def test_held_out_parts_stay_out_of_training(mnist_sample):
    assert not set(negatives.TRAIN_TTF) & set(negatives.HELD_OUT_TTF)
    assert not set(negatives.TRAIN_HERSHEY) & set(negatives.HELD_OUT_HERSHEY)
    assert not set(negatives.DOODLES) & set(negatives.HELD_OUT_DOODLES)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown kind"):
        negatives.make_ink("house", rng, 100)  # held-out doodles are never made for training
    with pytest.raises(ValueError, match="pass digits"):
        negatives.make_ink("pair", rng, 100)
    with pytest.raises(ValueError, match="unknown kind"):
        negatives.make_ink("pair", rng, 100, held_out=True, digits=mnist_sample[0])


def test_polygons_are_neither_ovals_nor_slivers():
    # A convex blob would teach the model to refuse a 0, a thin closed shape a 1.
    for i in range(40):
        (outline,) = negatives.polygon(np.random.default_rng(i))
        points = outline[:-1].astype(np.float32)
        (_, _), (w, h), _ = cv2.minAreaRect(points)
        assert max(w, h) < 2 * min(w, h)
        assert cv2.contourArea(points) < 0.8 * cv2.contourArea(cv2.convexHull(points))


def test_ambiguous_shapes_are_never_negatives():
    ambiguous = set("".join(negatives.AMBIGUOUS.values())) | set("0123456789")
    for chars in (negatives.LETTERS, negatives.SYMBOLS_ASCII, negatives.SYMBOLS_EXTRA, negatives.HELD_OUT_SYMBOLS):
        assert not set(chars) & ambiguous
    assert {"O", "o", "l", "I", "S", "Z", "z", "s"} <= ambiguous


def test_training_batches_mix_in_negatives(mnist_sample):
    from digitcore.train import AugmentedDigits

    x, y = mnist_sample
    pool, _ = negatives.make_pool(50, seed=1, digits=x)
    batches = AugmentedDigits(x, y.astype(np.int64), 32, seed=3, negatives=pool, negatives_per_batch=5)
    images, labels = batches[0]
    assert images.shape == (37, 28, 28, 1) and images.dtype == np.float32
    assert list(labels[-5:]) == [10] * 5 and (labels[:32] < 10).all()
    assert np.array_equal(batches[0][0], images)  # repeatable
    assert all(images[i].max() > 0.5 for i in range(32, 37))  # the negatives arrive as ink, not blanks


def test_rejection_rule_and_threshold_fit():
    from digitcore.evaluate import fit_reject_threshold

    p = np.full((1000, 11), 0.01)
    p[:, 3] = 0.9
    p[:, 10] = np.linspace(0.45, 0.99, 1000)  # P(not a digit) spread over 0.45-0.99
    assert not evaluate.rejected(p[:, :10], 0.0).any()  # a 10-output model never rejects
    t = fit_reject_threshold(p, share=0.1)
    assert evaluate.rejected(p, t).mean() <= 0.1 < evaluate.rejected(p, t - 0.01).mean()
    p[0, 10] = 0.95
    assert evaluate.rejected(p, 0.9)[0] and not evaluate.rejected(p, 0.96)[0]  # the threshold alone decides


def committed_model_has_not_a_digit() -> bool:
    return json.loads((ROOT / "models" / "digits.json").read_text()).get("classes") == 11


needs_model = pytest.mark.skipif(not committed_model_has_not_a_digit(), reason="the committed model has no class 10")


@needs_model
@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="held-out kind the model still reads as a digit"))
    if p.name in MISSED else p for p in NOT_DIGITS], ids=[p.name for p in NOT_DIGITS])
def test_committed_non_digits_are_rejected(recognizer, path):
    model_input = to_model_input(read_image(path))
    assert model_input is not None
    p = recognizer.probabilities(model_input[None])
    assert evaluate.rejected(p, recognizer.reject_threshold, model_input[None])[0], p.round(3)  # the served rule


@needs_model
@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="held-out kind the model still reads as a digit"))
    if p.name in MISSED else p for p in NOT_DIGITS], ids=[p.name for p in NOT_DIGITS])
def test_committed_non_digits_are_not_read_as_numbers(recognizer, path):
    # What the page shows: segmentation must not cut a heart into "57" or an H into "11".
    reading = recognizer.read(read_image(path))
    assert reading.number is None and reading.reason == "not a digit", reading.number
    assert any(d.label is None for d in reading.digits)


def line(degrees_off_vertical: float, pen: int = 14) -> np.ndarray:
    """A straight black stroke on a white 400x400 picture, tilted that far from vertical."""
    picture = np.full((400, 400, 3), 255, np.uint8)
    a = np.radians(degrees_off_vertical)
    d = np.array([np.sin(a), -np.cos(a)]) * 150
    cv2.line(picture, tuple(int(v) for v in 200 - d), tuple(int(v) for v in 200 + d), (0, 0, 0), pen, cv2.LINE_AA)
    return picture


def test_a_stroke_lying_flat_is_not_a_digit_and_an_upright_one_is_a_one(recognizer):
    for degrees in (60, 70, 80, 90, 120):
        prediction, reading = recognizer.predict(line(degrees)), recognizer.read(line(degrees))
        assert prediction.label is None and prediction.reason == "not a digit", degrees
        assert reading.number is None and reading.reason == "not a digit" and reading.digits[0].not_digit == 1.0, degrees
    for degrees in (0, 20, 40, -30):
        assert recognizer.predict(line(degrees)).label == 1, degrees


def arrow(degrees_off_vertical: float, pen: int = 12, barb: int = 60, opened: float = 0.45) -> np.ndarray:
    """An arrow on a white 400x400 picture, pointing that far from straight up: a 300 px shaft and an open head
    of two barbs `barb` px long, opened by `opened` radians each way (by default a fifth of the shaft, 25 degrees)."""
    picture = np.full((400, 400, 3), 255, np.uint8)
    a = np.radians(degrees_off_vertical)
    d = np.array([np.sin(a), -np.cos(a)])
    tip, tail = 200 + 150 * d, 200 - 150 * d
    for side in (opened, -opened):
        turn = np.array([[np.cos(side), -np.sin(side)], [np.sin(side), np.cos(side)]])
        cv2.line(picture, tuple(int(v) for v in tip), tuple(int(v) for v in tip - barb * turn @ d), (0, 0, 0), pen, cv2.LINE_AA)
    cv2.line(picture, tuple(int(v) for v in tail), tuple(int(v) for v in tip), (0, 0, 0), pen, cv2.LINE_AA)
    return picture


def one_with_flag_and_foot() -> np.ndarray:
    """A 1 as many write it: a flag at the top left and a foot across the bottom."""
    picture = np.full((400, 400, 3), 255, np.uint8)
    for a, b in (((200, 50), (200, 350)), ((200, 50), (140, 110)), ((150, 350), (250, 350))):
        cv2.line(picture, a, b, (0, 0, 0), 14, cv2.LINE_AA)
    return picture


def test_an_arrow_is_not_a_digit_and_a_one_with_flag_or_foot_still_is(recognizer):
    for degrees in (0, 15, -20, 180, 165):  # up, slanted, down: the ones a model reads as a 1
        prediction, reading = recognizer.predict(arrow(degrees)), recognizer.read(arrow(degrees))
        assert prediction.label is None and prediction.reason == "not a digit", degrees
        assert reading.number is None and reading.digits[0].not_digit == 1.0, degrees
    assert recognizer.predict(one_with_flag_and_foot()).label == 1
    assert recognizer.predict(line(5)).label == 1


def test_an_arrow_with_a_big_head_is_not_a_digit(recognizer):
    # Long, wide barbs spread the ink across the shaft, so it looks stubbier than a plain arrow's (STUBBY_SHAFT).
    for degrees in (0, 15, -20, 180):
        picture = arrow(degrees, barb=80, opened=0.5)
        assert shapes.arrow(to_model_input(picture)), degrees
        reading = recognizer.read(picture)
        assert reading.number is None and reading.reason == "not a digit", (degrees, reading.number)


def question_mark(slant: int = 0, pen: int = 14, dot: int = 16) -> np.ndarray:
    """A question mark on a white 400x400 picture: a hook whose foot is `slant` px left of its top's middle, a dot under it."""
    picture = np.full((400, 400, 3), 255, np.uint8)
    cv2.ellipse(picture, (200 + slant, 130), (70, 65), 0, 180, 405, (0, 0, 0), pen, cv2.LINE_AA)
    cv2.line(picture, (200 + slant + 49, 176), (200, 260), (0, 0, 0), pen, cv2.LINE_AA)
    cv2.circle(picture, (200, 320), dot, (0, 0, 0), -1, cv2.LINE_AA)
    return picture


def test_a_question_mark_is_not_a_digit_and_an_exclamation_mark_stays_a_one(recognizer):
    # The model reads these question marks as 7s (77-90%): the dot under the hook is what no digit has, pressed
    # wider than the pen or tapped a pen wide (shapes.DOT_WIDE, TAP_SIDE).
    for picture in (question_mark(), question_mark(slant=30), question_mark(pen=8, dot=12), question_mark(pen=20, dot=20),
                    question_mark(pen=10, dot=5), question_mark(pen=20, dot=10)):
        assert shapes.question_mark(to_model_input(picture))
        assert recognizer.predict(picture).reason == "not a digit"
        assert recognizer.read(picture).reason == "not a digit"
    bang = np.full((400, 400, 3), 255, np.uint8)
    cv2.line(bang, (200, 60), (200, 260), (0, 0, 0), 14, cv2.LINE_AA)
    cv2.circle(bang, (200, 320), 16, (0, 0, 0), -1, cv2.LINE_AA)
    assert recognizer.predict(bang).label == 1  # "!" is one of negatives.AMBIGUOUS's 1s


def test_a_loop_with_its_foot_cut_off_is_no_question_mark():
    # An 8 whose foot the pen lifted from (benchmarks.numbers, two-stroke, seed 0, #106; what the model saw) has a
    # blob under it as a question mark has its dot under the hook; but a question mark's stroke goes round no hole.
    eight = cv2.imread(str(FIXTURES / "shapes" / "eight_foot_cut.png"), cv2.IMREAD_GRAYSCALE) / np.float32(255)
    assert shapes.encloses((eight > 0.3).astype(np.uint8)) and not shapes.question_mark(eight)
    hook = to_model_input(question_mark())
    assert not shapes.encloses((hook > 0.3).astype(np.uint8)) and shapes.question_mark(hook)


def test_a_v_is_not_read_as_eleven(recognizer):
    # Cut at its point, each half of a V reads as a 1 at 99%; halves leaning 40 degrees apart stay one piece.
    for points in (((88, 80), (200, 320), (312, 80)), ((88, 320), (200, 80), (312, 320))):  # V and caret
        picture = np.full((400, 400, 3), 255, np.uint8)
        cv2.polylines(picture, [np.array(points)], False, (0, 0, 0), 16, cv2.LINE_AA)
        reading = recognizer.read(picture)
        assert reading.number is None and reading.reason == "not a digit", reading.number


def test_no_mnist_digit_is_an_arrow_or_a_question_mark(mnist_sample):
    x, _ = mnist_sample
    assert not shapes.refused_shapes(x / np.float32(255)).any()
    refused = shapes.refused_shapes(np.stack([to_model_input(p) for p in (arrow(10), question_mark(), line(10))]))
    assert refused.tolist() == [True, True, False]


def test_no_mnist_digit_lies_flat(mnist_sample):
    x, _ = mnist_sample
    assert not shapes.lying_flat(x / np.float32(255)).any()
    flat = to_model_input(line(70))
    assert shapes.lying_flat(np.stack([flat, to_model_input(line(10))])).tolist() == [True, False]


@needs_model
def test_fixture_digits_still_read(recognizer, mnist_sample):
    x, y = mnist_sample
    threshold = recognizer.reject_threshold  # the served pair's
    result = evaluate.score(recognizer.probabilities(x / np.float32(255)), y, threshold)
    assert result["accuracy"] >= 0.99 and result["rejected"] <= 0.01
    for name, label in (("seven_sketch.png", 7), ("three_photo.jpg", 3), ("two_pen.jpg", 2)):
        model_input = to_model_input(read_image(ROOT / "examples" / name))
        p = recognizer.probabilities(model_input[None])
        assert p[0].argmax() == label and not evaluate.rejected(p, threshold)[0]


def test_the_shape_rule_reads_uint8_inputs_as_the_model_does():
    # A strong stroke with faint barbs (0.2 of full ink) is a plain 1 to the model and the rule; MNIST arrays come
    # as uint8, where those barbs (51) would count as strong ink if taken as they are.
    ink = np.zeros((28, 28), np.float32)
    cv2.line(ink, (14, 4), (14, 24), 1.0, 2)
    for end in ((9, 9), (19, 9)):
        cv2.line(ink, (14, 4), end, 0.2, 1)
    as_loaded = (ink * 255).astype(np.uint8)
    nothing = np.zeros((1, 11), np.float32)
    assert not shapes.arrow(ink) and shapes.arrow(as_loaded)  # what the rule would say, taken as loaded
    assert evaluate.rejected(nothing, 0.5, as_loaded[None]).tolist() == evaluate.rejected(nothing, 0.5, ink[None]).tolist() == [False]
