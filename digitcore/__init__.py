"""digitcore: handwritten digit recognition, from any picture of a digit to the probabilities of 0-9."""
from digitcore.images import InvalidImage, read_image
from digitcore.predict import Digit, ModelError, Prediction, Reading, Recognizer
from digitcore.preprocess import to_model_input

__all__ = ["Digit", "InvalidImage", "ModelError", "Prediction", "Reading", "Recognizer", "read_image", "to_model_input"]
