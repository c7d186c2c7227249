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
