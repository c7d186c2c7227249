"""Reading touching digits whole: the strip, the decoding, and the committed string network on MNIST test digits."""
from dataclasses import replace

import numpy as np
import pytest

from digitcore import predict, runtime
from digitcore.images import read_image
from digitcore.predict import DEFAULT_STRINGS, STRING_SURE, Digit, Recognizer, maybe_several, overrules, with_pieces_kept
from digitcore.segment import touching_runs
from digitcore.strings import (BLANK, BOX, CLASSES, HEIGHT, NOT_DIGIT, PEAK_LAG, STEPS, WIDTH, boundaries, decode, to_strip,
                               window)
from tests.conftest import FIXTURES
from tests.test_segment import first_of, ink_of, line, page


def test_a_strip_holds_the_ink_at_mnist_scale_and_maps_columns_back(mnist_sample):
    ink, lefts = line([ink_of(first_of(mnist_sample, d)) for d in (3, 8)], gap=-2)
    strip, scale, left = to_strip(ink)
    assert strip.shape == (HEIGHT, WIDTH) and strip.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(strip.max(axis=1) > 0), np.flatnonzero(strip.max(axis=0) > 0)
    assert rows[-1] + 1 - rows[0] == BOX
    first_ink = np.flatnonzero(ink.max(axis=0) > 0)[0]
    assert abs(first_ink * scale + left - cols[0]) <= 1  # a column of the map lands where the strip says
    assert to_strip(np.zeros((40, 40), np.float32)) is None
    assert to_strip(np.ones((20, 400), np.float32)) is None  # longer than any strip


def steps_of(classes: list[int]) -> np.ndarray:
    steps = np.full((STEPS, CLASSES), 0.01, np.float32)
    for k, c in enumerate(classes):
        steps[k, c] = 1.0
    return steps / steps.sum(axis=1, keepdims=True)


def test_decoding_merges_repeats_and_drops_blanks():
    classes = [BLANK] * STEPS
    classes[3:5] = [3, 3]  # digit 2, over two steps: one digit
    classes[9] = 3  # digit 2 again after a blank: a second one
    classes[14] = NOT_DIGIT + 1
    reading = decode(steps_of(classes))
    assert reading.labels == (2, 2, NOT_DIGIT)
    assert reading.probabilities.shape == (3, 10) and np.allclose(reading.probabilities.sum(axis=1), 1)
    assert reading.sure.min() > 0.8 and reading.not_digit[2] > 0.8 > reading.not_digit[0]
    assert reading.centres[1] == round((9.5 + PEAK_LAG) * WIDTH / STEPS)
    cuts = boundaries(reading, 1.0, 0, WIDTH)
    assert cuts[0][0] == 0 and cuts[-1][1] == WIDTH and all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    assert window(np.ones((HEIGHT, WIDTH), np.float32), 0).shape == (HEIGHT, HEIGHT)
    assert decode(steps_of([BLANK] * STEPS)).labels == ()


def test_touching_runs_group_neighbours_that_share_a_stroke():
    ink = np.zeros((60, 80), np.float32)
    ink[:20, 0:20] = 1  # one stroke, cut into two pieces at column 10
    ink[:20, 25:35] = 1  # a gap after it, though the next box reaches back over it (slanted writing)
    ink[40:60, 50:60] = 1  # the next line
    pieces = [(ink[:20, 0:10], (0, 0, 10, 20)), (ink[:20, 10:20], (10, 0, 10, 20)),
              (ink[:20, 15:35], (15, 0, 20, 20)), (ink[40:60, 50:60], (50, 40, 10, 20))]
    pieces[2] = (np.where(np.arange(20) >= 10, pieces[2][0], 0), pieces[2][1])  # its own ink: columns 25-34
    assert touching_runs(ink, pieces) == [[0, 1], [2], [3]]


@pytest.fixture(scope="module")
def strings_model():
    return runtime.load(DEFAULT_STRINGS.with_suffix(".onnx"), DEFAULT_STRINGS, contract=runtime.STRINGS)


def test_the_string_network_reads_overlapping_mnist_digits(strings_model, mnist_sample):
    """Pairs and triples of MNIST test digits written into each other, as the strip a user's ink makes."""
    right, total = 0, 0
    for k in range(1, 4):
        for a in range(10):
            labels = (a, (7 * a + 3 + k) % 10, (3 * a + k) % 10)[: 2 + k % 2]
            ink, _ = line([ink_of(first_of(mnist_sample, d, k)) for d in labels], gap=-6)
            steps = strings_model(to_strip(ink)[0][None, ..., None])[0]
            right += decode(steps).labels == labels
            total += 1
    assert right >= 23  # of 30 (25 measured)


def test_each_symbol_is_placed_on_its_digit(strings_model, mnist_sample):
    """Where the string network reads a touching number right, each symbol's column maps back into its own digit,
    within a quarter of a digit's width of its middle for most (the network names a digit about a step before
    its middle: PEAK_LAG)."""
    near, total = 0, 0
    for k in range(1, 4):
        for a in range(10):
            labels = (a, (7 * a + 3 + k) % 10, (3 * a + k) % 10)
            inks = [ink_of(first_of(mnist_sample, d, k)) for d in labels]
            ink, lefts = line(inks, gap=-6)
            strip, scale, left = to_strip(ink)
            reading = decode(strings_model(strip[None, ..., None])[0])
            if reading.labels != labels:
                continue
            for centre, x, digit in zip(reading.centres, lefts, inks):
                near += abs((centre - left) / scale - (x + digit.shape[1] / 2)) <= digit.shape[1] / 4
                total += 1
    assert total >= 45 and near >= 0.8 * total


def test_read_reports_a_touching_number_with_boxes_on_its_digits(recognizer, mnist_sample):
    assert recognizer.strings is not None  # the committed string network is served by default
    labels = (1, 9, 7, 5)
    inks = [ink_of(first_of(mnist_sample, d, 2)) for d in labels]
    ink, lefts = line(inks, gap=-6)
    reading = recognizer.read(page(ink))
    assert reading.number == "1975"
    for digit, left, original in zip(reading.digits, lefts, inks):
        x, _, w, _ = digit.box
        centre = left + 40 + original.shape[1] / 2  # page() adds a 40 px margin; the picture is the ink's size
        assert x <= centre <= x + w and digit.model_input.shape == (28, 28)


def test_a_string_reading_overrules_a_sure_refusal_but_not_a_refused_shape(mnist_sample):
    """A piece the digit network is certain is no digit (two digits pressed into one box) is still read again;
    a dash stays refused whatever the string network reads."""
    reading = decode(steps_of([BLANK, 1, BLANK, 1, BLANK, 2] + [BLANK] * (STEPS - 6)))  # "001"
    zero = first_of(mnist_sample, 0, 0).astype(np.float32) / 255
    dash = np.zeros((28, 28), np.float32)
    dash[13:16, 4:24] = 1
    refused = Digit(None, np.full(10, 0.1, np.float32), 1.0, zero, (0, 0, 40, 28))
    assert overrules(reading, [refused])
    assert not overrules(reading, [replace(refused, model_input=dash)])
    assert not overrules(reading, [replace(refused, label=d) for d in (0, 0, 1)])  # the pieces read the same
    assert overrules(reading, [refused, refused])  # a run of pieces: no shape rule


def test_a_string_reading_overrules_only_when_every_symbol_is_sure_enough(mnist_sample):
    """A run's reading replaces its pieces when each symbol's peak probability is at least STRING_SURE."""
    zero = first_of(mnist_sample, 0, 0).astype(np.float32) / 255
    pieces = [Digit(1, np.eye(10, dtype=np.float32)[1], 0.0, zero, (0, 0, 20, 28))] * 2  # read "11"

    def reading(second: float):  # "17", its 7 read this surely, the rest of the step spread evenly
        steps = steps_of([BLANK, 2, BLANK, 8] + [BLANK] * (STEPS - 4))
        steps[3] = (1 - second) / (CLASSES - 1)
        steps[3, 8] = second
        return decode(steps)

    assert reading(STRING_SURE + 0.05).labels == (1, 7)
    assert overrules(reading(STRING_SURE + 0.05), pieces)
    assert not overrules(reading(STRING_SURE - 0.05), pieces)


def test_a_refused_piece_is_read_again_whatever_its_width():
    """Digits pressed into one piece need not be wide (a 6 and a 1); a narrow piece read surely, or one read at
    all, is left to the digit network unless it is wide and doubtful."""
    narrow, wide = (np.ones((60, 30), np.float32), (0, 0, 30, 60)), (np.ones((40, 60), np.float32), (0, 0, 60, 40))
    refused = Digit(None, np.full(10, 0.1, np.float32), 0.99, np.zeros((28, 28), np.float32), (0, 0, 30, 60))
    sure = replace(refused, label=1, probabilities=np.eye(10, dtype=np.float32)[1], not_digit=0.0)
    doubtful = replace(sure, probabilities=np.full(10, 0.1, np.float32))
    assert maybe_several(narrow, refused) and maybe_several(wide, refused)
    assert not maybe_several(narrow, sure) and not maybe_several(narrow, doubtful)
    assert maybe_several(wide, doubtful) and not maybe_several(wide, sure)


def test_a_piece_alone_is_not_made_one_digit_by_the_string_network(mnist_sample):
    """Which digit one piece is, the digit network judges: a wide round doodle it refuses stays refused when the
    string network reads it as a 0; read as two digits or as "not a digit", the piece is still read again."""
    zero = first_of(mnist_sample, 0, 0).astype(np.float32) / 255
    refused = Digit(None, np.full(10, 0.1, np.float32), 0.9, zero, (0, 0, 40, 28))
    one = decode(steps_of([BLANK, 1] + [BLANK] * (STEPS - 2)))  # "0"
    two = decode(steps_of([BLANK, 2, BLANK, 8] + [BLANK] * (STEPS - 4)))  # "17"
    none = decode(steps_of([BLANK, NOT_DIGIT + 1] + [BLANK] * (STEPS - 2)))  # not a digit
    assert one.labels == (0,) and two.labels == (1, 7) and none.labels == (NOT_DIGIT,)
    assert not overrules(one, [refused])
    assert not overrules(one, [replace(refused, label=6)])  # a doubtful 6 stays the digit network's 6
    assert overrules(two, [refused]) and overrules(none, [replace(refused, label=6)])
    assert overrules(one, [refused, refused])  # two pieces read as one digit: a run, not a piece alone
    ones = decode(steps_of([BLANK, 2, BLANK, 2] + [BLANK] * (STEPS - 4)))  # "11": a V or an n as much as two 1s
    assert ones.labels == (1, 1) and not overrules(ones, [refused]) and overrules(ones, [refused, refused])


DOUBTED = steps_of([BLANK, NOT_DIGIT + 1, BLANK, 3] + [BLANK] * (STEPS - 4))  # a run read "not a digit", then 2


def test_a_cut_digit_keeps_its_reading_over_a_doubtful_not_a_digit(mnist_sample):
    """Where the string network reads as many symbols as there are pieces, a piece the digit network reads as a
    digit keeps it over "not a digit"; a piece read 0 or 1 does not (an infinity sign's halves read "0" "0")."""
    zero = first_of(mnist_sample, 0, 0).astype(np.float32) / 255
    six, two, nought, one = (Digit(d, np.eye(10, dtype=np.float32)[d], 0.0, zero, (20 * d, 0, 20, 28)) for d in (6, 2, 0, 1))
    x2 = decode(DOUBTED)
    whole = [replace(six, label=None), replace(two, box=(0, 0, 1, 1))]  # as the string network boxes them
    assert [d.label for d in with_pieces_kept(x2, [six, two], whole)] == [6, 2]
    assert with_pieces_kept(x2, [six, two], whole)[1] is whole[1]  # its own digits stand
    assert [d.label for d in with_pieces_kept(x2, [nought, two], whole)] == [None, 2]
    assert [d.label for d in with_pieces_kept(x2, [one, two], whole)] == [None, 2]  # a letter's stem reads 1
    assert [d.label for d in with_pieces_kept(x2, [six], whole[:1])] == [None]  # a piece alone: overrules decides
    assert with_pieces_kept(x2, [six, two, two], whole) == whole  # other counts: the reading whole


def test_read_keeps_touching_digits_the_string_network_doubts(recognizer, mnist_sample):
    """Through read: "62" written touching, its string network (fixed here to read "not a digit" and 2) does
    not turn a number the digit network reads right into "not a digit"."""
    ink, _ = line([ink_of(first_of(mnist_sample, d, 1)) for d in (6, 2)], gap=-4)
    assert decode(DOUBTED).labels == (NOT_DIGIT, 2)

    def strings(strips: np.ndarray) -> np.ndarray:
        return np.stack([DOUBTED] * len(strips))

    alone = Recognizer(recognizer.model, recognizer.reject_threshold, recognizer.fast)
    assert alone.read(page(ink)).number == "62"  # the digit network's pieces
    doubted = Recognizer(recognizer.model, recognizer.reject_threshold, recognizer.fast, strings)
    reading = doubted.read(page(ink))
    assert reading.number == "62" and reading.reason is None


def test_a_run_is_read_again_shifted_where_its_strip_falls_between_steps(recognizer, monkeypatch):
    """A "608" written touching (benchmarks.numbers, touching, seed 7, #174): the pieces read "658", and the
    string network reads the strip 6, 6 (41% sure, under STRING_SURE), 8, so the pieces stood; both strips
    shifted a column read "608" (71% and 88%), and that is the reading now."""
    picture = read_image(FIXTURES / "touching" / "touching_s7_0174_608.png")
    assert recognizer.read(picture).number == "608"
    monkeypatch.setattr(predict, "SHIFTS", (0, 0))  # "shifted" strips that are the strip itself
    assert recognizer.read(picture).number == "658"


def test_a_shifted_reading_is_taken_only_when_both_shifts_give_it(recognizer, mnist_sample):
    """The shifted strips overrule a strip's own unsure reading only by agreeing with each other on another one."""
    ink, _ = line([ink_of(first_of(mnist_sample, d, 1)) for d in (6, 2)], gap=-4)
    unsure, six_two, seven_two = steps_of([BLANK, 7, BLANK, 3] + [BLANK] * (STEPS - 4)), steps_of(
        [BLANK, 7, BLANK, 3] + [BLANK] * (STEPS - 4)), steps_of([BLANK, 8, BLANK, 3] + [BLANK] * (STEPS - 4))
    unsure[1] = (1 - 0.4) / (CLASSES - 1)  # "62", its 6 read only 40% surely
    unsure[1, 7] = 0.4
    assert decode(unsure).labels == (6, 2) and decode(unsure).sure[0] < STRING_SURE

    def reader(left: np.ndarray, right: np.ndarray) -> Recognizer:
        def strings(strips: np.ndarray) -> np.ndarray:  # the strip itself first, then shifted by each of SHIFTS
            n = len(strips) // 3
            return np.concatenate([[unsure] * n, [left] * n, [right] * n])
        return Recognizer(recognizer.model, recognizer.reject_threshold, recognizer.fast, strings)

    assert reader(seven_two, seven_two).read(page(ink)).number == "72"  # both shifts agree: taken
    assert reader(seven_two, six_two).read(page(ink)).number == "62"  # they differ: the pieces stand
