"""Train the sequence network that reads touching digits whole (digitcore/strings.py), with CTC.

Its strings are made here from MNIST's train split only (the digits digitcore.train trains on, its
validation digits held out the same way): 1-6 digits side by side, touching, overlapping or spaced, each a
little bigger or smaller and higher or lower, strokes thickened or thinned, the line sheared; every string
then goes through strings.to_strip, as a user's piece of ink does. Some strings are a non-digit alone, or hold
one among the digits (letters, symbols and doodles of digitcore.negatives' training kinds, never the held-out
ones): the network learns to read those as NOT_DIGIT, one step like a digit.

    python -m digitcore train-strings --data ../shared/data/mnist.npz [--strings 300000] [--epochs 4] [--alone 0.45]
    python -m digitcore train-strings --data ... --init served.keras --draw 1 --epochs 2 --learning-rate 3e-4
    python -m digitcore train-strings --data ... --init served.keras --draw 3 --epochs 2 --learning-rate 3e-4 --serifs 0.5

writes models/strings.keras, its metrics in strings.json, and the served models/strings.onnx (exported and
checked against Keras, as digitcore.export does for the digit models).
"""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import cv2
import keras
import numpy as np
from keras import layers

from digitcore.data import load_mnist, validation_split
from digitcore.export import export
from digitcore.model import conv_bn
from digitcore.negatives import DOODLES, crop, make_ink
from digitcore.runtime import sha256
from digitcore.strings import BLANK, CLASSES, HEIGHT, NOT_DIGIT, STEPS, STRIP_SHAPE, WIDTH, decode, to_strip
from digitcore.train import add_serifs, load_weights

MAX_DIGITS = 6
COUNTS = (0.1, 0.3, 0.25, 0.15, 0.1, 0.1)  # how often a string has 1, 2, ... 6 digits
TOUCHING = 0.6  # share of neighbours that touch or overlap; the rest have a gap
OVERLAP = (-0.25, 0.0)  # gap between touching neighbours, of the digit height (negative: overlapping)
GAP = (0.0, 0.5)
ALONE, AMONG = 0.45, 0.08  # shares of strings that are one non-digit alone (--alone), or digits with one among them
VALIDATION_ALONE = 0.12  # the validation strings' share: the same 3,000 strings every network is scored on
SHAPES = ("letter", "letter", "symbol", *DOODLES)  # the non-digits, letters twice as often as each other kind
# Elastic bends for the 40 px digits drawn here: Simard et al.'s smoothing (4 px on MNIST's 28 px field) and
# strength (about 34 px) at twice MNIST's scale, 8 px and 40-80 px on a 56 px digit, scaled to 40 px.
BEND_SMOOTH = 8.0 * 40 / 56  # how far apart the bends are
BEND_REACH = (40.0 * 40 / 56, 80.0 * 40 / 56)  # how strongly the strokes are bent


def digit_crops(x: np.ndarray) -> list[np.ndarray]:
    """Each 28x28 uint8 digit cropped to its ink, as float32 in [0, 1]."""
    return [crop(digit).astype(np.float32) / 255 for digit in x]


def non_digit(rng: np.random.Generator, height: float) -> np.ndarray:
    """A training non-digit's ink, float32, about as tall as a digit and at most twice as wide."""
    ink = make_ink(SHAPES[rng.integers(len(SHAPES))], rng, height).astype(np.float32) / 255
    s = min(height * rng.uniform(0.8, 1.1) / ink.shape[0], 2 * height / ink.shape[1])
    return cv2.resize(ink, (max(1, round(ink.shape[1] * s)), max(1, round(ink.shape[0] * s))), interpolation=cv2.INTER_AREA)


def with_serifs(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1's float32 ink with a flag at the top, sometimes a foot (digitcore.train.add_serifs), cropped again:
    MNIST's 1s are mostly bare strokes, and a network trained on them reads a flagged 1 as a 7."""
    pad = int(0.5 * ink.shape[0]) + 2  # the flag reaches up to 0.4 of the height to the left
    picture = np.ascontiguousarray(np.round(np.pad(ink, pad) * 255), dtype=np.uint8)  # OpenCV draws on C order only
    add_serifs(picture, rng)
    return crop(picture).astype(np.float32) / 255


def bend(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The ink warped by a smooth random displacement field: strokes bend and bulge as in another hand, which
    shear and scale alone cannot do (elastic distortion, Simard et al., 2003)."""
    h, w = ink.shape
    reach = rng.uniform(*BEND_REACH)
    dx, dy = (cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), BEND_SMOOTH) * reach
              for _ in range(2))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(ink, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0)


def make_string(crops: list[np.ndarray], labels: np.ndarray, rng: np.random.Generator, bend_share: float = 0.0,
                stretch: tuple[float, float] = (1.0, 1.0), alone: float = ALONE,
                serifs: float = 0.0) -> tuple[np.ndarray, list[int]] | None:
    """One strip of 1-6 random digits (sometimes a non-digit) and their labels, NOT_DIGIT for a non-digit; None
    when it would not fit a strip. Other hands than MNIST's: bend_share of the glyphs bent (non-digits
    too), each digit's width times a factor drawn from stretch, serifs of the 1s written with a flag (and
    sometimes a foot) as digitcore.train draws them. alone: the share of strings that are one non-digit alone."""
    kind = rng.random()
    count = 1 if kind < alone else int(rng.choice(MAX_DIGITS, p=COUNTS)) + 1
    picks = list(rng.integers(len(crops), size=count))
    if kind < alone + AMONG:
        picks[int(rng.integers(count))] = -1  # a non-digit here
    height = 40.0
    r = int(rng.integers(-1, 3))  # one pen per string: 2 px thinner to 4 px fatter at this scale (7-20% of the height)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(r) + 1, 2 * abs(r) + 1))
    glyphs = []
    for k in picks:
        if k < 0:
            g = non_digit(rng, height)
        else:
            size = height * rng.uniform(0.85, 1.1) * crops[k].shape[0] / 20
            wide = rng.uniform(*stretch) if stretch != (1.0, 1.0) else 1.0
            g = cv2.resize(crops[k], (max(1, round(crops[k].shape[1] * wide * size / crops[k].shape[0])), max(1, round(size))),
                           interpolation=cv2.INTER_LINEAR)
            if serifs and labels[k] == 1 and rng.random() < serifs:  # no draw without serifs: older strings stay
                g = with_serifs(g, rng)
        # Non-digits are bent as often as digits: else bent strokes alone tell a digit, and a cloud reads as one.
        if bend_share and rng.random() < bend_share:
            g = crop(np.where((b := bend(np.pad(g, 4), rng)) > 0.02, b, 0))
        if r:
            g =  cv2.dilate(np.pad(g, abs(r)), kernel) if r > 0 else cv2.erode(g, kernel)
        glyphs.append(g)
    gaps = [rng.uniform(*(OVERLAP if rng.random() < TOUCHING else GAP)) * height for _ in picks[1:]]
    lefts = [0]
    for g, gap in zip(glyphs[:-1], gaps):
        lefts.append(max(lefts[-1] + 2, round(lefts[-1] + g.shape[1] + gap)))
    tall = max(g.shape[0] for g in glyphs)
    canvas = np.zeros((3 * tall, max(x + g.shape[1] for x, g in zip(lefts, glyphs)) + 2), np.float32)
    for g, x in zip(glyphs, lefts):
        y = tall + int(rng.uniform(-0.08, 0.08) * height) + (tall - g.shape[0]) // 2
        np.maximum(canvas[y : y + g.shape[0], x : x + g.shape[1]], g, out=canvas[y : y + g.shape[0], x : x + g.shape[1]])
    # One look for every glyph: cut at a level and softened again. MNIST's digits are soft-edged and the drawn
    # non-digits crisp; left so, the network tells them apart by their edges, and reads a user's crisp digits
    # as non-digits.
    canvas = cv2.GaussianBlur((canvas > rng.uniform(0.3, 0.6)).astype(np.float32), (0, 0), rng.uniform(0.4, 1.2))
    shear, angle = rng.uniform(-0.25, 0.25), rng.uniform(-4, 4)
    h, w = canvas.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[0, 1] += shear
    m[0, 2] -= shear * h / 2
    canvas = cv2.warpAffine(canvas, m, (w + int(abs(shear) * h), h), flags=cv2.INTER_LINEAR)
    made = to_strip(np.where(canvas > 0.05, canvas, 0))
    if made is None:
        return None
    return made[0], [NOT_DIGIT if k < 0 else int(labels[k]) for k in picks]


def make_strings(x: np.ndarray, y: np.ndarray, n: int, seed: int | list[int], bend_share: float = 0.0,
                 stretch: tuple[float, float] = (1.0, 1.0), alone: float = ALONE,
                 serifs: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """n strips (n, HEIGHT, WIDTH) uint8 and their CTC targets (n, MAX_DIGITS): digit + 1, then BLANK."""
    rng = np.random.default_rng(seed)
    crops = digit_crops(x)
    strips = np.zeros((n, HEIGHT, WIDTH), np.uint8)
    targets = np.full((n, MAX_DIGITS), BLANK, np.int32)
    i = 0
    while i < n:
        made = make_string(crops, y, rng, bend_share, stretch, alone, serifs)
        if made is None:
            continue
        strips[i] = np.round(made[0] * 255)
        targets[i, : len(made[1])] = np.array(made[1]) + 1
        i += 1
    return strips, targets


def build_model() -> keras.Model:
    """Convolutions down to STEPS columns (32, then 64, then 96-96 wide), context across columns (a dense layer and
    two 5-wide convolutions), logits of blank, 10 digits and "not a digit". About 585k parameters."""
    inputs = keras.Input(shape=STRIP_SHAPE)
    x = inputs
    for block, pool in (((32,), (2, 2)), ((64,), (2, 2)), ((96, 96), (2, 1))):  # (14, 64) (7, 32) (3, 32)
        for filters in block:
            x = keras.Sequential(conv_bn(filters))(x)
        x = layers.MaxPooling2D(pool)(x)
    x = layers.Permute((2, 1, 3))(x)  # columns first
    x = layers.Reshape((STEPS, -1))(x)
    x = layers.Dense(192, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    for _ in range(2):  # a digit spans 3-5 steps, and which strokes are whose depends on its neighbours too
        x = layers.Conv1D(192, 5, padding="same", activation="relu")(x)
        x = layers.Dropout(0.2)(x)
    logits = layers.Dense(CLASSES, name="logits")(x)
    return keras.Model(inputs, logits, name="strings")


def with_softmax(model: keras.Model) -> keras.Model:
    """The trained network with probabilities out, as it is saved and served (it trains on logits, for CTC)."""
    return keras.Model(model.inputs, layers.Softmax()(model.outputs[0]), name="strings")


def string_accuracy(model: keras.Model, strips: np.ndarray, targets: np.ndarray) -> float:
    """Share of strips read exactly right by greedy decoding (model: with probabilities out)."""
    steps = model.predict(strips[..., None].astype(np.float32) / 255, batch_size=512, verbose=0)
    right = [decode(s).labels == tuple(int(t) - 1 for t in target if t != BLANK) for s, target in zip(steps, targets)]
    return float(np.mean(right))


def train(data: str | Path | None, out: Path, strings: int = 300_000, epochs: int = 4, seed: int = 42,
          init: str | Path | None = None, draw: int = 0, learning_rate: float = 1e-3, bend_share: float = 0.0,
          stretch: tuple[float, float] = (1.0, 1.0), alone: float = ALONE, serifs: float = 0.0) -> dict:
    """Make the strings, train with CTC, save the network with probabilities out, record and export it.

    init: a string network (.keras) to start from, fine-tuning it; draw: which set of training strings to make
    (0: the first network's; another number: new ones); bend_share, stretch, alone and serifs: see
    make_string. The validation digits and strings stay the same whatever these are, so figures compare."""
    (x_train, y_train), _ = load_mnist(data)
    held_out, trained = validation_split(len(x_train), seed, 6000)  # as digitcore.train splits the train digits
    start = time.time()
    x, t = make_strings(x_train[trained], y_train[trained], strings, [seed, draw] if draw else seed, bend_share, stretch,
                        alone, serifs)
    xv, tv = make_strings(x_train[held_out], y_train[held_out], 3000, seed + 1, alone=VALIDATION_ALONE)
    print(f"made {strings} strings in {time.time() - start:.0f} s", flush=True)
    model = build_model()
    started_from = None
    if init:
        model.set_weights(load_weights(init, model))  # the saved network's Softmax has no weights: they line up
        started_from = {"model": Path(init).name, "sha256": sha256(init)}  # now: out may be the same file
        print(f"started from {init}: validation strings read right {string_accuracy(with_softmax(model), xv, tv):.4f}",
              flush=True)
    steps = max(1, epochs * (strings // 128))  # the schedule's length; at least one step for a tiny try
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                  loss=keras.losses.CTC())
    for epoch in range(epochs):
        model.fit(x[..., None].astype(np.float32) / 255, t, batch_size=128, epochs=1, verbose=2)
        print(f"epoch {epoch + 1}: validation strings read right {string_accuracy(with_softmax(model), xv, tv):.4f} "
              f"({time.time() - start:.0f} s)", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    served = with_softmax(model)
    served.save(out)
    metrics = {"validation_string_accuracy": string_accuracy(served, xv, tv), "strings": strings, "epochs": epochs,
               "seed": seed, "draw": draw, "learning_rate": learning_rate, "bend_share": bend_share, "alone": alone,
               "serifs": serifs, "stretch": list(stretch),
               "init": started_from,
               "train_seconds": round(time.time() - start),
               "command": "python -m digitcore " + shlex.join(sys.argv[1:])}
    out.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    metrics["export"] = export(out)
    return metrics
