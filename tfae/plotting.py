"""Pictures of an autoencoder at work: reconstruction grids and latent-space plots.

`reconstruction_grid` needs numpy alone (it writes PNG itself), so the demo runs
on a bare install; `latent_scatter` uses matplotlib, imported on first use.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from typing import Any

import numpy as np

from tfae import _validation


def _as_images(x: Any, name: str, image_shape: tuple[int, int] | None) -> np.ndarray:
    array = _validation.as_float_array(x, name=name)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        shape = image_shape or ((side, side) if side * side == array.shape[1] else None)
        if shape is None or math.prod(shape) != array.shape[1]:
            raise ValueError(
                f"Expected `image_shape` that fits {array.shape[1]} values per sample. "
                f"Received: image_shape={image_shape}"
            )
        array = array.reshape((-1,) + tuple(shape))
    if array.ndim != 3:
        raise ValueError(
            f"Expected `{name}` to be grayscale images (n, h, w), (n, h, w, 1) or flat (n, h*w). "
            f"Received: {name}.shape={np.shape(x)}"
        )
    return array


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write a 2-D uint8 array as an 8-bit grayscale PNG (no imaging library needed)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 2:
        raise ValueError(f"Expected a 2-D grayscale image. Received: image.shape={image.shape}")
    height, width = image.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )
    with open(path, "wb") as file:
        file.write(png)


def image_grid(
    images: Any,
    *,
    columns: int = 10,
    image_shape: tuple[int, int] | None = None,
    scale: int = 2,
    path: str | os.PathLike | None = None,
) -> np.ndarray:
    """Tile images in rows of `columns`, a gray border around each: samples of a generator, say.

    Args:
        images: images in [0, 1], shaped `(m, h, w)`, `(m, h, w, 1)` or flat
            `(m, h*w)` (square images are inferred).
        columns: images per row; the last row is padded with gray.
        image_shape: `(h, w)` for flat non-square images.
        scale: integer upscaling of each pixel, so small digits stay legible.
        path: when given, the grid is written there as a PNG.

    Returns:
        The grid as a uint8 array of shape
        `(rows * (h + 2) * scale, columns * (w + 2) * scale)`, `rows = ceil(m / columns)`.
    """
    images = _as_images(images, "images", image_shape)
    columns = min(_validation.positive_int(columns, "columns"), images.shape[0])
    scale = _validation.positive_int(scale, "scale")
    rows = -(-images.shape[0] // columns)
    h, w = images.shape[1:]
    grid = np.full((rows * (h + 2), columns * (w + 2)), 0.5, dtype=np.float32)
    for index, image in enumerate(images):
        y, x = (index // columns) * (h + 2) + 1, (index % columns) * (w + 2) + 1
        grid[y : y + h, x : x + w] = image
    grid = np.kron(np.clip(grid, 0.0, 1.0), np.ones((scale, scale), np.float32))
    image = np.round(grid * 255).astype(np.uint8)
    if path is not None:
        write_png(path, image)
    return image


def reconstruction_grid(
    originals: Any,
    reconstructions: Any,
    *,
    n: int = 10,
    image_shape: tuple[int, int] | None = None,
    scale: int = 2,
    path: str | os.PathLike | None = None,
) -> np.ndarray:
    """Tile `n` originals above their reconstructions, as the article's figure does.

    Args:
        originals: images in [0, 1], shaped `(m, h, w)`, `(m, h, w, 1)` or
            flat `(m, h*w)` (square images are inferred).
        reconstructions: the same images after the autoencoder, same shape.
        n: how many pairs to show (at most `m`).
        image_shape: `(h, w)` for flat non-square images.
        scale: integer upscaling of each pixel, so small digits stay legible.
        path: when given, the grid is written there as a PNG.

    Returns:
        The grid as a uint8 array of shape `(2 * (h + 2) * scale, n * (w + 2) * scale)`.
    """
    top = _as_images(originals, "originals", image_shape)
    bottom = _as_images(reconstructions, "reconstructions", image_shape)
    if top.shape != bottom.shape:
        raise ValueError(
            "Expected `reconstructions` to have the shape of `originals`. "
            f"Received: originals {top.shape}, reconstructions {bottom.shape}"
        )
    n = min(_validation.positive_int(n, "n"), top.shape[0])
    return image_grid(np.concatenate([top[:n], bottom[:n]]), columns=n, scale=scale, path=path)


def _pyplot(function: str, path):
    """matplotlib's pyplot, headless when a figure is only saved; a clear error without matplotlib."""
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(f"`{function}` needs matplotlib: pip install 'tfae[plot]'") from None
    return plt


def loss_curves(history: Any, *, path: str | os.PathLike | None = None, title: str = "Training"):
    """Every loss and metric of a Keras `History` (or its `.history` dict) against the epoch, one panel each.

    Args:
        history: what `fit` returns, or its `history` dict `{name: [value per epoch]}`.
        path: when given, the figure is saved there (PNG, PDF, SVG...).
        title: the figure title.

    Returns:
        The matplotlib `Figure`: one panel per quantity, with its `val_` twin
        on the same axes.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs or not all(isinstance(v, (list, tuple)) for v in logs.values()):
        raise ValueError(f"Expected a Keras History or a dict of per-epoch lists. Received: history={history!r}")
    plt = _pyplot("loss_curves", path)
    names = [name for name in logs if not name.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for panel, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        panel.plot(epochs, logs[name], marker="o", label=name)
        if f"val_{name}" in logs:
            panel.plot(epochs, logs[f"val_{name}"], marker="o", label=f"val_{name}")
        panel.set_xlabel("epoch")
        panel.set_title(name)
        panel.legend()
    figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def latent_scatter(
    codes: Any,
    labels: Any = None,
    *,
    path: str | os.PathLike | None = None,
    title: str = "Latent space",
):
    """Scatter plot of latent codes, coloured by label.

    Codes with more than two dimensions are projected on their first two
    principal components.

    Args:
        codes: latent codes of shape `(n, latent_dim)`.
        labels: optional integer labels of shape `(n,)`, used as colours.
        path: when given, the figure is saved there (PNG, PDF, SVG...).
        title: the figure title.

    Returns:
        The matplotlib `Figure`.
    """
    plt = _pyplot("latent_scatter", path)
    z = _validation.as_float_array(codes, name="codes")
    if z.ndim != 2:
        raise ValueError(f"Expected `codes` of shape (n, latent_dim). Received: codes.shape={z.shape}")
    if z.shape[1] > 2:
        centred = z - z.mean(axis=0)
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        z = centred @ components[:2].T
        axes_labels = ("PC 1", "PC 2")
    elif z.shape[1] == 2:
        axes_labels = ("z[0]", "z[1]")
    else:
        z = np.concatenate([z, np.zeros_like(z)], axis=1)
        axes_labels = ("z[0]", "")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != z.shape[0]:
            raise ValueError(
                f"Expected one label per code ({z.shape[0]}). Received: labels.shape={labels.shape}"
            )
    figure, axes = plt.subplots(figsize=(6, 5))
    points = axes.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7)
    if labels is not None:
        figure.colorbar(points, ax=axes, label="label")
    axes.set_xlabel(axes_labels[0])
    axes.set_ylabel(axes_labels[1])
    axes.set_title(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
