"""Read whatever a caller hands us (a file path, bytes, a PIL image, a numpy array, a Gradio sketchpad value)
into a numpy picture, refusing what is not a picture with a clear InvalidImage message."""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 64_000_000  # a larger array is refused rather than processed slowly
MAX_FILE_BYTES = 50 * 1024 * 1024  # no digit photo needs more; the app sets its own, lower upload limit


class InvalidImage(ValueError):
    """The input is not a picture we can read; the message says what was wrong."""


def as_array(image: Any) -> np.ndarray | None:
    """A numpy picture (H, W[, C]) from a path, bytes, PIL image, array or sketchpad dict; None for an empty sketchpad."""
    if image is None:
        return None
    if isinstance(image, dict):  # Gradio's ImageEditor/Sketchpad value: {"background", "layers", "composite"}
        return as_array(image.get("composite"))
    if isinstance(image, np.ndarray):
        return image
    if isinstance(image, Image.Image):
        return pil_to_array(image)
    if isinstance(image, (str, Path)):
        return read_image(image)
    if isinstance(image, (bytes, bytearray)):
        return decode_image(bytes(image))
    raise InvalidImage(f"cannot read a picture from a {type(image).__name__}")


def read_image(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> np.ndarray:
    """The picture in an image file (PNG, JPEG, WebP, BMP, TIFF, GIF...) as a numpy array, upright per its EXIF tag."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise InvalidImage(f"{path}: no such file") from None
    if path.is_dir():
        raise InvalidImage(f"{path}: is a folder, not an image file")
    if size > max_bytes:
        raise InvalidImage(f"{path}: the file is {size / 2**20:.1f} MB; at most {max_bytes / 2**20:.0f} MB is accepted")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidImage(f"{path}: cannot be read ({e.strerror})") from None
    try:
        return decode_image(data)
    except InvalidImage as e:
        raise InvalidImage(f"{path}: {e}") from None


def decode_image(data: bytes) -> np.ndarray:
    """Decode image file bytes; the pixel count is checked from the header before any pixel is decoded."""
    if not data:
        raise InvalidImage("the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise InvalidImage(f"the picture is too large ({width}x{height}; at most {MAX_PIXELS:,} pixels)")
            picture.load()
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise InvalidImage("not an image file (the format was not recognised)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"the picture declares more than {MAX_PIXELS:,} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InvalidImage(f"the image file is damaged or truncated ({e})") from None
    return pil_to_array(picture)


def pil_to_array(picture: Image.Image) -> np.ndarray:
    """(H, W), (H, W, 2), (H, W, 3) or (H, W, 4) array of a PIL image, rotated upright per EXIF, first frame of many."""
    try:
        picture.seek(0)
    except EOFError:
        pass
    picture = ImageOps.exif_transpose(picture)
    mode = picture.mode
    if mode in ("P", "PA"):  # palettes may carry transparency
        picture = picture.convert("RGBA")
    elif mode in ("1",):
        picture = picture.convert("L")
    elif mode.startswith("I") or mode == "F":  # 16-bit and 32-bit greys: scale to [0, 1] by their range
        array = np.asarray(picture, dtype=np.float64)
        top = 65535.0 if array.max(initial=0) > 255 else 255.0
        return np.clip(array / top, 0.0, 1.0).astype(np.float32)
    elif mode not in ("L", "LA", "RGB", "RGBA"):  # CMYK, YCbCr, LAB, HSV, RGBa...
        picture = picture.convert("RGBA" if "A" in mode or "a" in mode else "RGB")
    return np.asarray(picture)


def to_rgb(picture: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 for showing a picture to a person: grey repeated, transparency composited onto white."""
    picture = to_uint8(picture)
    if picture.ndim == 2:
        return np.repeat(picture[..., None], 3, axis=2)
    if picture.shape[2] == 2:
        picture = np.concatenate([np.repeat(picture[..., :1], 3, axis=2), picture[..., 1:]], axis=2)
    if picture.shape[2] == 4:
        alpha = picture[..., 3:].astype(np.float32) / 255
        return (picture[..., :3] * alpha + 255 * (1 - alpha) + 0.5).astype(np.uint8)
    return picture


def to_uint8(image: np.ndarray) -> np.ndarray:
    """The array as uint8 (H, W) or (H, W, C) with C in 1-4; floats in [0, 1] or [0, 255], bool and uint16 accepted."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (2, 3, 4)):
        raise InvalidImage(
            f"an array of shape {image.shape} is not a picture: expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InvalidImage(f"the picture is empty (shape {image.shape})")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise InvalidImage(f"the picture is too large ({image.shape[1]}x{image.shape[0]}; at most {MAX_PIXELS:,} pixels)")
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise InvalidImage("the picture has NaN or infinite values")
        scale = 255.0 if image.max(initial=0) <= 1.0 else 1.0  # [0, 1] floats vs [0, 255] floats
        return np.clip(image * scale + 0.5, 0, 255).astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image, 0, 255).astype(np.uint8)
    raise InvalidImage(f"an array of dtype {image.dtype} is not a picture")
