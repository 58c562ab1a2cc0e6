"""A DICOM file's key image as a PNG the browser shows: the first frame, through the file's
modality and VOI transforms (its window, or the image's own range without one), inverted
for MONOCHROME1, scaled down to at most ``MAX_SIDE`` pixels. Rendered off the event loop."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pydicom
from numpy.typing import NDArray
from PIL import Image
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut, convert_color_space

from medmarket.errors import NotFound

MAX_SIDE = 1024
NO_IMAGE = "this file has no image to preview"


def _to_bytes(values: NDArray[np.floating]) -> NDArray[np.uint8]:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (values - low) * (255.0 / (high - low))
    grey: NDArray[np.uint8] = np.clip(scaled, 0, 255).astype(np.uint8)
    return grey


def render(content: bytes) -> bytes:
    """The PNG; NotFound when the file holds no image pydicom can decode (a waveform, a
    compression without a decoder installed)."""
    try:
        dataset = pydicom.dcmread(io.BytesIO(content))
        if "PixelData" not in dataset:
            raise NotFound(NO_IMAGE)
        pixels = dataset.pixel_array
        frames = int(dataset.get("NumberOfFrames") or 1)
        samples = int(dataset.get("SamplesPerPixel") or 1)
        if frames > 1:
            pixels = pixels[0]
        photometric = str(dataset.get("PhotometricInterpretation", ""))
        if samples == 3:
            if photometric.startswith("YBR"):
                pixels = convert_color_space(pixels, photometric, "RGB")
            image = Image.fromarray(_to_bytes(pixels.astype(np.float64)), mode="RGB")
        else:
            values = apply_voi_lut(apply_modality_lut(pixels, dataset), dataset)
            grey = _to_bytes(np.asarray(values, dtype=np.float64))
            if photometric == "MONOCHROME1":
                grey = 255 - grey
            image = Image.fromarray(grey, mode="L")
    except NotFound:
        raise
    except Exception as error:  # any decoder's failure means: no preview
        raise NotFound(f"{NO_IMAGE} ({type(error).__name__})") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def png_of(content: bytes) -> bytes:
    return await asyncio.to_thread(render, content)
