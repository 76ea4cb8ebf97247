"""A folder of image files as one array, for encoding or reconstructing images that are not MNIST.

The files are decoded by TensorFlow's image ops (PNG, JPEG, GIF, BMP), a tfae
dependency, imported on first use so the rest of `tfae.datasets` stays numpy-only.
"""

from __future__ import annotations

import os

import numpy as np

from tfae import _errors, _validation

_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


def load_images(
    folder: str | os.PathLike, *, color_mode: str = "grayscale", normalize: bool = True
) -> tuple[np.ndarray, list[str]]:
    """Every image file of `folder` (not its subfolders), in sorted name order, as one array.

    Args:
        folder: a folder of `.png`, `.jpg`/`.jpeg`, `.gif` or `.bmp` files, all
            the same height and width.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`, as in
            `keras.utils.image_dataset_from_directory`: the channels every image
            is converted to.
        normalize: scale 8-bit values to float32 in [0, 1] (16-bit PNGs by
            65535); False keeps the integers.

    Returns:
        `(images, names)`: an array of shape `(n, height, width, channels)` and
        the `n` file names, in the order of the rows.

    Example:

    ```python
    import numpy as np, tfae
    from pathlib import Path

    (x_train, _), _ = tfae.datasets.load_mnist_sample()
    Path("digits").mkdir(exist_ok=True)
    for i in range(3):
        tfae.plotting.write_png(f"digits/{i}.png", np.round(x_train[i].reshape(28, 28) * 255).astype("uint8"))
    images, names = tfae.datasets.load_images("digits")
    assert images.shape == (3, 28, 28, 1) and names == ["0.png", "1.png", "2.png"]
    ```
    """
    folder = _validation.path(folder, "folder")
    if not isinstance(color_mode, str) or color_mode not in _CHANNELS:
        raise ValueError(f"Expected `color_mode` to be one of {sorted(_CHANNELS)}. Received: color_mode={color_mode!r}")
    if folder.is_file():
        raise ValueError(f"Expected `folder` to be a folder of images. Received: folder={str(folder)!r}, a file")
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    files = sorted(path for path in folder.iterdir() if path.is_file() and path.suffix.lower() in _SUFFIXES)
    if not files:
        raise ValueError(f"Expected image files ({', '.join(_SUFFIXES)}) in the folder. Received: {folder} with none")
    import tensorflow as tf

    images, channels = [], _CHANNELS[color_mode]
    for path in files:
        try:
            data = path.read_bytes()
            # TensorFlow decodes GIFs to RGB only, and BMPs to their own 3 or 4 channels (or 1): other channel
            # counts are converted from those.
            native = data[:6] in (b"GIF87a", b"GIF89a") or data[:2] == b"BM"
            image = tf.io.decode_image(data, channels=0 if native else channels, expand_animations=False,
                                       dtype=tf.uint16 if _is_16_bit_png(data) else tf.uint8)
            if native:
                image = _with_channels(tf, image, channels)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError, ValueError) as error:
            raise ValueError(f"Expected a readable image. Received: {path} ({_errors.reason(error)})") from None
        if images and image.shape != images[0].shape:
            raise ValueError(f"Expected every image to be {tuple(images[0].shape[:2])} like {files[0].name}. "
                             f"Received: {path} of {tuple(image.shape[:2])}")
        images.append(image.numpy())
    array = np.stack(images)
    if normalize:
        array = array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    return array, [path.name for path in files]


def _with_channels(tf, image, channels: int):
    """An RGB, RGBA or grayscale image with `channels` channels: alpha dropped or made opaque, colours
    averaged as TensorFlow's `rgb_to_grayscale` weighs them, or a gray copied to each colour."""
    if image.shape[-1] == 4 and channels != 4:
        image = image[..., :3]
    if image.shape[-1] == 1 and channels != 1:
        image = tf.image.grayscale_to_rgb(image)
    if image.shape[-1] == 3 and channels == 1:
        image = tf.image.rgb_to_grayscale(image)
    if image.shape[-1] == 3 and channels == 4:
        image = tf.pad(image, [[0, 0], [0, 0], [0, 1]], constant_values=255)  # opaque alpha
    return image


def _is_16_bit_png(data: bytes) -> bool:
    """Whether the file's bytes are a PNG of bit depth 16 (byte 24, in its IHDR chunk)."""
    return len(data) >= 25 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[24] == 16
