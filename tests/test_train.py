"""A short real training run on a few hundred MNIST digits saves a model that loads and predicts."""
import json

import numpy as np
import pytest

from conftest import FIXTURES
from digitcore import Recognizer
from digitcore.train import augment_digit


@pytest.mark.parametrize("size", ["full", "fast"])
def test_short_training_run_saves_a_working_model(tmp_path, mnist_sample, size):
    from digitcore.train import train

    out = tmp_path / "tiny.keras"
    metrics = train(FIXTURES / "mnist_tiny.npz", out, epochs=2, batch_size=64, command="test", size=size)
    assert out.is_file() and not (tmp_path / "tiny.best.keras").exists()
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved == metrics
    assert saved["train_images"] + saved["validation_images"] == 600 and saved["epochs"] == 2
    assert 0.5 <= saved["temperature"] <= 3.0 and saved["size"] == size
    recognizer = Recognizer.load(out)
    p = recognizer.predict(mnist_sample[0][0])
    assert p.label in range(10) and abs(p.probabilities.sum() - 1) < 1e-5


def test_the_fast_network_is_a_quarter_of_the_work_with_the_same_contract():
    from digitcore.model import build_model

    def multiply_adds(model) -> int:  # of the convolutions, which do nearly all the work
        return sum(int(np.prod(layer.output.shape[1:])) * int(np.prod(layer.kernel.shape[:-1]))
                   for layer in model.layers if layer.__class__.__name__ == "Conv2D")

    full, fast = build_model(size="full"), build_model(size="fast")
    x = np.zeros((2, 28, 28, 1), np.float32)
    assert full(x).shape == fast(x).shape == (2, 11)
    assert multiply_adds(fast) < multiply_adds(full) / 3
    with pytest.raises(ValueError, match="size must be"):
        build_model(size="huge")


def test_augmentation_is_repeatable_and_gives_model_inputs(mnist_sample):
    digits = mnist_sample[0][:50]
    a = [augment_digit(d, np.random.default_rng([1, i])) for i, d in enumerate(digits)]
    b = [augment_digit(d, np.random.default_rng([1, i])) for i, d in enumerate(digits)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert all(x.shape == (28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1 for x in a)
    assert sum(not np.allclose(x, d / 255) for x, d in zip(a, digits)) > 25  # most are actually distorted


def test_a_digit_cut_from_a_touching_pair_keeps_itself_and_at_most_a_sliver(mnist_sample):
    from digitcore.negatives import crop
    from digitcore.train import SLIVER, cut_from_pair

    digits = mnist_sample[0]
    kept, with_sliver = 0, 0
    for i in range(60):
        digit, neighbour = digits[i], digits[i + 60]
        piece = cut_from_pair(digit, neighbour, np.random.default_rng([2, i]))
        if piece is None:
            continue
        kept += 1
        own = int((digit > 127).sum())
        assert piece.ndim == 2 and piece.dtype == np.uint8 and piece.shape[0] <= 28 + 3
        assert (piece > 127).sum() <= (1 + SLIVER) * own  # the neighbour's part is a sliver, not a second digit
        assert (piece > 127).sum() >= 0.6 * own  # the cut runs through the overlap, not through the digit's middle
        with_sliver += not np.array_equal(piece, crop(digit))  # the neighbour's edge came along, or its own went
    assert kept >= 40 and 10 <= with_sliver < kept


def test_cutting_from_a_pair_takes_any_neighbour(mnist_sample):
    from digitcore.train import cut_from_pair

    digits = mnist_sample[0]
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 14:16] = 255  # narrower than the overlap
    for i in range(200):
        rng = np.random.default_rng([3, i])
        for neighbour in (one, digits[(i * 7) % len(digits)]):
            piece = cut_from_pair(digits[i % len(digits)], neighbour, rng)
            assert piece is None or (piece.ndim == 2 and piece.any())


def test_training_the_fast_model_beside_a_full_one_fits_the_pairs_threshold(tmp_path):
    from digitcore.evaluate import pair_threshold, reject_threshold
    from digitcore.train import train

    full, fast = tmp_path / "digits.keras", tmp_path / "digits-fast.keras"
    train(FIXTURES / "mnist_tiny.npz", full, epochs=1, batch_size=64, command="test")
    metrics = train(FIXTURES / "mnist_tiny.npz", fast, epochs=1, batch_size=64, command="test", size="fast")
    record = json.loads(fast.with_suffix(".json").read_text())["cascade"]
    assert record == metrics["cascade"] and record["validation_digits"] == 120
    assert 0.5 <= record["reject_threshold"] <= 0.99
    pair = Recognizer.load(full.with_suffix(".onnx"), fast=fast.with_suffix(".onnx"))
    assert pair.reject_threshold == record["reject_threshold"] == pair_threshold(full, fast)
    own = json.loads(full.with_suffix(".json").read_text())
    full.with_suffix(".json").write_text(json.dumps({**own, "reject_threshold": 0.97}))
    assert Recognizer.load(full.with_suffix(".onnx")).reject_threshold == reject_threshold(full) == 0.97  # alone: its own
    full.with_suffix(".onnx").write_bytes(full.with_suffix(".onnx").read_bytes() + b"\0")  # not the model it was fitted with
    assert pair_threshold(full.with_suffix(".onnx"), fast.with_suffix(".onnx")) == 0.97


def test_training_can_start_from_a_saved_model_of_the_same_size(tmp_path):
    import keras

    from digitcore.runtime import ModelError
    from digitcore.train import train

    start = FIXTURES.parent.parent / "models" / "digits-fast.keras"
    out = tmp_path / "tuned.keras"
    metrics = train(FIXTURES / "mnist_tiny.npz", out, epochs=1, batch_size=64, learning_rate=1e-12, command="test",
                    size="fast", init=start)
    assert metrics["init"]["model"] == start.name and len(metrics["init"]["sha256"]) == 64
    # A learning rate of nearly nothing leaves the starting weights as they were (batch norm's running statistics
    # drift a little): they were loaded, not random, which would differ by about 0.1.
    for tuned, saved in zip(keras.models.load_model(out).get_weights(), keras.models.load_model(start).get_weights()):
        np.testing.assert_allclose(tuned, saved, rtol=0.01, atol=1e-3)
    with pytest.raises(ModelError, match="not this network"):
        train(FIXTURES / "mnist_tiny.npz", tmp_path / "wrong.keras", epochs=1, batch_size=64, command="test",
              size="full", init=start)


def test_strings_of_other_hands_are_bent_and_widened_and_still_strips(mnist_sample):
    from digitcore.strings import BLANK, HEIGHT, WIDTH
    from digitcore.train_strings import make_strings

    x, y = mnist_sample
    plain, targets = make_strings(x, y, 60, [42, 1])
    other, _ = make_strings(x, y, 60, [42, 1], bend_share=1.0, stretch=(1.3, 1.3))
    assert other.shape == plain.shape == (60, HEIGHT, WIDTH) and other.dtype == np.uint8
    assert ((targets == BLANK) | (targets <= 11)).all() and (targets[:, 0] != BLANK).all()
    widths = [np.ptp(np.flatnonzero(s.max(axis=0) > 0)) for s in (plain, other) for s in s]
    assert np.mean(widths[60:]) > 1.1 * np.mean(widths[:60])  # every digit drawn 1.3 times as wide
    assert make_strings(x, y, 5, [42, 1])[0].tobytes() == plain[:5].tobytes()  # repeatable


def test_ones_in_strings_get_a_flag_with_serifs_and_other_strings_stay_as_they_were(mnist_sample):
    from digitcore.train_strings import make_strings, with_serifs

    x, y = mnist_sample
    one = x[np.flatnonzero(y == 1)[0]].astype(np.float32) / 255
    plain = one[:, one.any(axis=0)][one.any(axis=1)]
    flagged = with_serifs(plain, np.random.default_rng(0))
    assert flagged.shape[1] >= plain.shape[1] + 3 and flagged.sum() > 1.1 * plain.sum()  # a flag or foot beside it
    # No random draw without serifs: the strings every served network was trained on are made exactly as before.
    assert make_strings(x, y, 20, [42, 1], serifs=0.0)[0].tobytes() == make_strings(x, y, 20, [42, 1])[0].tobytes()
    ones = np.flatnonzero(y == 1)
    bare, _ = make_strings(x[ones], y[ones], 20, 5)
    serifed, _ = make_strings(x[ones], y[ones], 20, 5, serifs=1.0)
    assert serifed.tobytes() != bare.tobytes()


def test_the_string_network_can_be_fine_tuned_from_a_saved_one(tmp_path):
    import keras

    from digitcore.train_strings import train

    start = FIXTURES.parent.parent / "models" / "strings.keras"
    out = tmp_path / "strings.keras"
    metrics = train(FIXTURES / "mnist_tiny.npz", out, strings=64, epochs=1, init=start, draw=1, learning_rate=1e-12,
                    bend_share=0.4, stretch=(0.8, 1.3))
    assert metrics["init"]["model"] == "strings.keras" and metrics["stretch"] == [0.8, 1.3]
    assert out.with_suffix(".onnx").is_file() and metrics["export"]["max_difference"] < 1e-4
    for tuned, saved in zip(keras.models.load_model(out).get_weights(), keras.models.load_model(start).get_weights()):
        np.testing.assert_allclose(tuned, saved, rtol=0.01, atol=1e-3)  # loaded, not random


def test_a_string_network_fine_tuned_in_place_records_the_file_it_started_from(tmp_path):
    import shutil

    from digitcore.runtime import sha256
    from digitcore.train_strings import train

    out = tmp_path / "strings.keras"
    shutil.copy(FIXTURES.parent.parent / "models" / "strings.keras", out)
    before = sha256(out)
    metrics = train(FIXTURES / "mnist_tiny.npz", out, strings=64, epochs=1, init=out, draw=1, learning_rate=1e-12)
    assert metrics["init"]["sha256"] == before != sha256(out)  # the starting file, not the one written over it


def test_the_share_of_strings_that_are_one_non_digit_alone_is_set_by_alone(mnist_sample):
    from digitcore.strings import BLANK, NOT_DIGIT
    from digitcore.train_strings import VALIDATION_ALONE, make_strings

    x, y = mnist_sample
    _, alone = make_strings(x, y, 40, [42, 1], alone=1.0)
    assert (alone[:, 0] == NOT_DIGIT + 1).all() and (alone[:, 1:] == BLANK).all()  # each one non-digit, nothing else
    _, mixed = make_strings(x, y, 200, [42, 1])
    single_non_digits = np.mean((mixed[:, 0] == NOT_DIGIT + 1) & (mixed[:, 1] == BLANK))
    assert 0.35 < single_non_digits < 0.55  # ALONE, 0.45, by default
    _, few = make_strings(x, y, 200, [42, 1], alone=VALIDATION_ALONE)  # 0.12
    assert 0.05 < np.mean((few[:, 0] == NOT_DIGIT + 1) & (few[:, 1] == BLANK)) < 0.25
