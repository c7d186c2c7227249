"""The one reading every caller uses: load the model once, turn any picture into a number, its digits, or why not."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from digitcore import runtime
from digitcore.evaluate import pair_threshold, reject_threshold, rejected
from digitcore.images import as_array
from digitcore.ink import find_ink
from digitcore.preprocess import to_field
from digitcore.runtime import ModelError
from digitcore.segment import Piece, split_digits, touching_runs
from digitcore.shapes import refused_shapes
from digitcore.strings import NOT_DIGIT as STRING_NOT_DIGIT, StringReading, boundaries, decode, to_strip, window

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "digits.keras"  # what train writes
DEFAULT_ONNX = DEFAULT_MODEL.with_suffix(".onnx")  # what is served: exported from DEFAULT_MODEL (digits.json says so)
DEFAULT_FAST = DEFAULT_MODEL.with_name("digits-fast.keras")  # the quick network that answers the sure cases first
DEFAULT_STRINGS = DEFAULT_MODEL.with_name("strings.keras")  # the network that reads touching digits whole
SURE = 0.95  # the fast model's answer stands when its top probability is at least this; otherwise both models read
NO_DIGIT = np.full(10, 0.1, np.float32)  # what "no digit" reports: no class preferred
EMPTY, NOT_A_DIGIT, TOO_MANY = "empty", "not a digit", "too many pieces"  # why a reading has no number
MAX_DIGITS = 30  # a longer "number" is scribble or text: answered at once, not read piece by piece
WIDE_PIECE = 1.0  # a piece left whole this wide (of its height) may still be digits written into each other
ONE_SURE = 0.9  # ... unless the digit network reads it at least this surely as one digit
STRING_SURE = 0.5  # a run read whole replaces its digits when every symbol of it reads at least this surely: the
                   # string network's "not a digit" for a letter cut into "11" is often only 0.5-0.7 sure
SHIFTS = (-1, 1)  # strip columns a run is also read shifted by (read_touching)
LOOP_OR_STROKE = (0, 1)  # what any loop or stroke reads as: a piece read so is no proof of a digit (an infinity
                         # sign's halves, a letter's stem)


@dataclass(frozen=True)
class Digit:
    """One digit of a reading. label: 0-9, or None when this piece is not a digit; probabilities: (10,) over
    the digits, summing to 1 (the closest digits, even when rejected); not_digit: the model's probability that
    the piece is no digit at all (1 for a shape refused by its geometry: a stroke lying flat, an arrow);
    model_input: the (28, 28) float32 picture the model saw (for a digit the string network read, its slice of
    the ink preprocessed the same way); box: (x, y, w, h) in the original picture's pixels."""

    label: int | None
    probabilities: np.ndarray
    not_digit: float
    model_input: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def confidence(self) -> float:
        """How sure the model is of this piece's answer: of its digit, or that it is not a digit."""
        if self.label is None:
            return self.not_digit
        return float(self.probabilities[self.label]) * (1.0 - self.not_digit)

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 6), "box": list(self.box)}


@dataclass(frozen=True)
class Reading:
    """What a picture says. number: its digits as a string ("2026"), or None; digits: each piece, left to
    right; reason: why number is None ("empty", "not a digit", "too many pieces"), else None."""

    number: str | None
    digits: tuple[Digit, ...]
    reason: str | None

    @property
    def single(self) -> Digit | None:
        """The one digit, when the picture holds exactly one piece."""
        return self.digits[0] if len(self.digits) == 1 else None

    @property
    def label(self) -> int | None:
        return self.single.label if self.single else None

    @property
    def probabilities(self) -> np.ndarray | None:
        return self.single.probabilities if self.single else None

    def to_dict(self) -> dict:
        """The JSON shape the CLI and the API share: label and probabilities are filled for one digit."""
        single = self.single
        return {
            "number": self.number,
            "reason": self.reason,
            "digits": [d.to_dict() for d in self.digits],
            "label": single.label if single else None,
            "probabilities": {str(d): round(float(q), 6) for d, q in enumerate(single.probabilities)} if single else None,
        }


@dataclass(frozen=True)
class Prediction:
    """One picture read as one digit. label: 0-9, or None (reason says why: "empty" or "not a digit");
    probabilities: (10,) summing to 1; model_input: the (28, 28) float32 picture the model saw, or None."""

    label: int | None
    probabilities: np.ndarray
    model_input: np.ndarray | None
    reason: str | None = None


def run_batches(model: runtime.OnnxModel, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """(N, 28, 28, 1) -> (N, classes), batch_size at a time, which keeps memory small."""
    if len(inputs) <= batch_size:
        return model(inputs)
    return np.concatenate([model(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])


class Recognizer:
    """A loaded model and the one predict that everything (CLI, app, benchmarks) calls."""

    def __init__(self, model: runtime.OnnxModel, reject_threshold: float = 0.5, fast: runtime.OnnxModel | None = None,
                 strings: runtime.OnnxModel | None = None):
        if fast is not None and fast.classes != model.classes:
            raise ModelError(f"{fast.name} gives {fast.classes} classes, {model.name} {model.classes}: they cannot be paired")
        self.model = model
        self.fast = fast  # optional: answers first, and the full model reads only what it is unsure of
        self.strings = strings  # optional: reads runs of touching digits whole (digitcore/strings.py)
        self.reject_threshold = reject_threshold  # "not a digit" above this probability of the 11th class
        # At least the threshold, so a sure "not a digit" from the fast model is rejected like the full model's.
        self.sure = max(SURE, reject_threshold)
        self.classes: int = model.classes  # 10 digits, or 11 with "not a digit"
        for warming, shape in ((model, runtime.INPUT_SHAPE), (fast, runtime.INPUT_SHAPE), (strings, runtime.STRINGS[0])):
            if warming is not None:  # warm up now, not on the first user's request
                warming(np.zeros((1, *shape), np.float32))

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int = 1, fast: str | Path | None = None,
             strings: str | Path | None = None) -> "Recognizer":
        """The served models, loaded once; never imports TensorFlow unless given a .keras file.

        None: models/digits.onnx with models/digits-fast.onnx answering first (when present), each checked
        against its .keras by the sha256 its .json records (a stale export is a ModelError saying how to
        re-export). An .onnx path: that artefact alone, or with fast answering first (checked the same way when
        a .json beside it records an export). A .keras path: exported to ONNX on the fly and checked against
        Keras, so exactly that file is served by the same runtime (needs TensorFlow and tf2onnx). A pair rejects
        by the threshold fitted for it (evaluate.pair_threshold), a model alone by its own.
        strings: the string network that reads touching digits whole (with path None: models/strings.onnx, when
        present; "none" reads without one).
        threads: ONNX Runtime's threads per call; 1 suits one digit at a time in a server, 2 a big batch."""
        if path is None:
            path, default_fast, default_strings = DEFAULT_ONNX, DEFAULT_FAST.with_suffix(".onnx"), DEFAULT_STRINGS.with_suffix(".onnx")
            fast = fast or (default_fast if default_fast.is_file() else None)
            strings = strings or (default_strings if default_strings.is_file() else None)
        strings = None if str(strings) == "none" else strings
        model = cls.open_model(path, threads)
        threshold = pair_threshold(path, fast) if fast else reject_threshold(path)
        return cls(model, threshold, cls.open_model(fast, threads) if fast else None,
                   cls.open_model(strings, threads, runtime.STRINGS) if strings else None)

    @staticmethod
    def open_model(path: str | Path, threads: int = 1, contract: runtime.Contract = runtime.DIGITS) -> runtime.OnnxModel:
        """One .onnx or .keras file as a runtime model (see load)."""
        path = Path(path)
        if path.suffix == ".keras":
            if not path.is_file():
                raise ModelError(f"{path}: model file not found (train one with: python -m digitcore train --out {path})")
            from digitcore.export import onnx_bytes  # imports TensorFlow: only for a .keras file

            return runtime.OnnxModel(onnx_bytes(path, contract), str(path), threads, contract)
        if path.suffix != ".onnx":
            raise ModelError(f"{path}: expected a .onnx or .keras model file")
        recorded = path.with_suffix(".json").is_file()  # exported here by digitcore: hold it to what was recorded
        return runtime.load(path, path.with_suffix(".keras") if recorded else None, threads, contract)

    def probabilities(self, inputs: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) float32 model inputs -> (N, classes) probabilities, in batches that keep memory small.

        With a fast model, its sure answers stand, and the rest get the mean of both models' probabilities (a
        cascade): most digits cost the fast model's third of the time, and the doubtful ones two opinions,
        which read validation digits better than the full model's alone (benchmarks/README.md, "Cascade")."""
        inputs = np.asarray(inputs, np.float32)[..., None]
        if self.fast is None:
            return run_batches(self.model, inputs, batch_size)
        scores = run_batches(self.fast, inputs, batch_size)
        unsure = self.doubted(scores)
        if unsure.any():
            scores[unsure] = (scores[unsure] + run_batches(self.model, inputs[unsure], batch_size)) / 2
        return scores

    def doubted(self, fast_scores: np.ndarray) -> np.ndarray:
        """(N,) bool: which of the fast model's (N, classes) answers are not sure enough to stand alone."""
        return fast_scores.max(axis=1) < self.sure

    def classify(self, model_inputs: np.ndarray) -> list[tuple[int | None, np.ndarray, float]]:
        """(N, 28, 28) model inputs -> per input (label or None for "not a digit", (10,) digit probabilities, not_digit)."""
        scores = self.probabilities(model_inputs)
        digits = scores[:, :10]
        # An 11-class model's last output is "not a digit"; a 10-class model never rejects.
        not_digit = scores[:, 10] if scores.shape[1] > 10 else np.zeros(len(scores), np.float32)
        digits = digits / np.maximum(digits.sum(axis=1, keepdims=True), 1e-12)
        shaped = refused_shapes(model_inputs)  # a dash or an arrow, whatever the model says: surely not a digit
        refused = rejected(scores, self.reject_threshold) | shaped
        not_digit = np.where(shaped, 1.0, not_digit)
        return [
            (None if r else int(d.argmax()), d.astype(np.float32), float(n)) for d, n, r in zip(digits, not_digit, refused)
        ]

    def predict(self, image: Any) -> Prediction:
        """One picture read as one digit: array, PIL image, file path, bytes or Gradio sketchpad value."""
        array = as_array(image)
        ink = None if array is None else find_ink(array)
        if ink is None:
            return Prediction(None, NO_DIGIT.copy(), None, EMPTY)
        model_input = to_field(ink.strength)
        label, probabilities, _ = self.classify(model_input[None])[0]
        return Prediction(label, probabilities, model_input, None if label is not None else NOT_A_DIGIT)

    def read(self, image: Any) -> Reading:
        """A picture of one line of writing read as a number: its digits left to right, boxed, in one model call."""
        array = as_array(image)
        ink = None if array is None else find_ink(array)
        if ink is None:
            return Reading(None, (), EMPTY)
        judged: dict = {}  # what segmentation had the model judge: its chosen pieces are not judged twice
        pieces = split_digits(ink.strength, lambda maps: self.piece_scores(maps, judged))
        if len(pieces) > MAX_DIGITS:
            return Reading(None, (), TOO_MANY)
        digits = [
            Digit(label, probabilities, not_digit, model_input, box)
            for (model_input, (label, probabilities, not_digit)), (_, box) in zip(
                self.judge([piece for piece, _ in pieces], judged), pieces
            )
        ]
        if self.strings is not None:
            digits = self.read_touching(ink.strength, pieces, digits)
        digits = tuple(replace(d, box=ink.box_in_picture(*d.box)) for d in digits)
        if any(d.label is None for d in digits):
            return Reading(None, digits, NOT_A_DIGIT)
        return Reading("".join(str(d.label) for d in digits), digits, None)

    def read_touching(self, ink: np.ndarray, pieces: list[Piece], digits: list[Digit]) -> list[Digit]:
        """The digits with each run of touching pieces (and each piece left whole but wide enough to be two) read
        again whole by the string network, in one call, and replaced where that reading differs and is sure:
        it reads digits written into each other, where a cut takes part of one digit with the other.

        Each strip is also read shifted by SHIFTS: where its own reading does not replace the pieces, another
        reading that both shifted strips give may (where a strip falls between two of the network's 4-column
        steps, a symbol can be misread or doubted)."""
        runs = [run for run in touching_runs(ink, pieces) if len(run) > 1 or maybe_several(pieces[run[0]], digits[run[0]])]
        made = [(run, *joined(pieces, run)) for run in runs]
        made = [(run, ink, box, strip) for run, ink, box in made if (strip := to_strip(ink)) is not None]
        if not made:
            return digits
        strips = np.stack([strip for *_, (strip, _, _) in made])
        shifted_strips = [np.roll(strips, shift, axis=2) for shift in SHIFTS]
        readings = [decode(steps) for steps in self.strings(np.concatenate([strips, *shifted_strips])[..., None])]
        replaced: dict[int, list[Digit]] = {}
        for k, (run, ink, box, (strip, scale, left)) in enumerate(made):
            pieces_read = [digits[i] for i in run]
            reading = readings[k]
            if not overrules(reading, pieces_read):
                shifted = readings[k + len(made) :: len(made)]
                agreed = {r.labels for r in shifted}
                if len(agreed) > 1 or reading.labels in agreed or not overrules(shifted[0], pieces_read):
                    continue
                reading, strip, left = shifted[0], shifted_strips[0][k], left + SHIFTS[0]
            read_whole = with_pieces_kept(reading, pieces_read, string_digits(reading, strip, scale, left, ink, box))
            if [d.label for d in read_whole] == [d.label for d in pieces_read]:
                continue
            replaced[run[0]] = read_whole
            replaced.update({i: [] for i in run[1:]})
        return [d for i, digit in enumerate(digits) for d in replaced.get(i, [digit])]

    def piece_scores(self, pieces: list[np.ndarray], judged: dict | None = None) -> np.ndarray:
        """How surely each soft ink map is one digit, (N,) in [0, 1]: segmentation's judge of candidate cuts."""
        return np.array([(1 - n) * p.max() for _, (_, p, n) in self.judge(pieces, judged)], np.float32)

    def judge(self, pieces: list[np.ndarray], judged: dict | None = None) -> list[tuple[np.ndarray, tuple]]:
        """Each soft ink map's model input and classify() answer, in one model call for the maps not already in
        judged (keyed by their ink), which keeps every answer."""
        judged = {} if judged is None else judged
        keys = [(p.shape, p.tobytes()) for p in pieces]  # a few kB each, and only for one picture's reading
        new = [i for i, k in enumerate(keys) if k not in judged]
        if new:
            inputs = np.stack([to_field(pieces[i]) for i in new])
            for i, model_input, answer in zip(new, inputs, self.classify(inputs)):
                judged[keys[i]] = (model_input, answer)
        return [judged[k] for k in keys]


def overrules(reading: StringReading, digits: list[Digit]) -> bool:
    """Whether the string network's reading of a run replaces its pieces' digits: it differs, and every symbol
    is read at least STRING_SURE surely. A piece alone is never made one digit by it: which digit one piece
    is, the digit network judges better (a cloud it refuses, the string network may read as a wide 0). Nor is
    it made nothing but 1s: two straight strokes joined (a V, a caret, an n) read as "11" as surely as two 1s
    written into each other. And a piece alone refused by its shape (an arrow, a dash) stays refused. (The
    shape is asked again: the model's own "not a digit" can be 1.0 as well, and is no reason to keep it.)"""
    if not reading.labels or reading.sure.min() < STRING_SURE or list(reading.labels) == [d.label for d in digits]:
        return False
    if len(digits) > 1:
        return True
    one_digit = len(reading.labels) == 1 and reading.labels[0] != STRING_NOT_DIGIT
    only_ones = set(reading.labels) == {1}
    return not one_digit and not only_ones and not refused_shapes(digits[0].model_input[None])[0]


def with_pieces_kept(reading: StringReading, pieces_read: list[Digit], read_whole: list[Digit]) -> list[Digit]:
    """A run's digits as the string network read it whole, except that where it reads as many symbols as the run
    has pieces, a piece the digit network reads as a digit keeps it over the string network's "not a digit"
    (its cut digits, "6" and "2" of a "62", are read better than the pair whole, which it often doubts at 0.6).
    Not a 0 or a 1 (LOOP_OR_STROKE): the two halves of an infinity sign read "0" and "0"."""
    if len(pieces_read) < 2 or len(pieces_read) != len(read_whole):
        return read_whole
    return [piece if symbol == STRING_NOT_DIGIT and piece.label is not None and piece.label not in LOOP_OR_STROKE
            else whole for piece, symbol, whole in zip(pieces_read, reading.labels, read_whole)]


def maybe_several(piece: Piece, digit: Digit) -> bool:
    """Whether a piece segmentation left whole may be digits written into each other: one the digit network
    refuses, whatever its width (a 6 and a 1 pressed together are taller than wide); or one at least as wide
    as it is tall and not read surely as one digit (a wide 2 or 7 is, and the string network would cut it)."""
    _, (_, _, w, h) = piece
    return digit.label is None or (w >= WIDE_PIECE * h and digit.confidence < ONE_SURE)


def joined(pieces: list[Piece], run: list[int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The soft ink of a run of pieces in one map, and its box (x, y, w, h) in the ink map's pixels."""
    boxes = np.array([pieces[i][1] for i in run])
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    ink = np.zeros((y1 - y0, x1 - x0), np.float32)
    for i in run:
        piece, (x, y, w, h) = pieces[i]
        np.maximum(ink[y - y0 : y - y0 + h, x - x0 : x - x0 + w], piece, out=ink[y - y0 : y - y0 + h, x - x0 : x - x0 + w])
    return ink, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def string_digits(reading: StringReading, strip: np.ndarray, scale: float, left: int, ink: np.ndarray,
                  box: tuple[int, int, int, int]) -> list[Digit]:
    """A run's reading by the string network (of its joined ink, sitting at box) as Digits, each boxed on the ink
    between the midpoints of its neighbouring symbols. Its model input is that ink preprocessed like any digit
    (what a cut there gives the digit network, and what a correction of it trains on); with no ink there, the
    strip window it was read at."""
    out = []
    for k, (a, b) in enumerate(boundaries(reading, scale, left, ink.shape[1])):
        part = ink[:, a:b]
        rows = np.flatnonzero(part.max(axis=1) > 0)
        top, bottom = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, ink.shape[0])
        label = None if reading.labels[k] == STRING_NOT_DIGIT else reading.labels[k]
        model_input = to_field(part) if rows.size else window(strip, reading.centres[k])
        out.append(Digit(label, reading.probabilities[k], float(reading.not_digit[k]), model_input,
                         (box[0] + a, box[1] + top, b - a, bottom - top)))
    return out
