"""Pictures of an autoencoder at work: image grids, latent spaces, loss curves.

Each picture is a matplotlib `Figure` (matplotlib is imported on first use; `pip
install 'tfae[plot]'`), saved when `path=` is given. `tile_images` and `write_png`
need numpy alone: the demo and the TensorBoard callback use them on a bare install.
Images hold intensities in [0, 1]; values outside are clipped, and values on another
scale (more than 0.5 outside, such as 0-255 pixels) give a warning naming the argument.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
import zlib
from typing import Any

import numpy as np

from tfae import _errors, _validation

# How far outside [0, 1] values may go before a picture warns: a linear decoder overshoots a little
# (clipping that is right); data on another scale overshoots by a lot.
_OFF_SCALE = 0.5


def _as_images(x: Any, name: str, image_shape: tuple[int, int] | None) -> np.ndarray:
    """Grayscale images `(n, h, w)` from `(n, h, w)`, `(n, h, w, 1)` or flat `(n, h*w)` values."""
    if image_shape is not None:
        checked = _validation.shape_tuple(image_shape, "image_shape")
        if len(checked) != 2:
            raise ValueError(f"Expected `image_shape` to be `(height, width)`, two positive integers. "
                             f"Received: image_shape={image_shape!r}")
        image_shape = checked
    array = _validation.as_float_array(x, name=name)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        shape = image_shape or ((side, side) if side * side == array.shape[1] else None)
        if shape is None or math.prod(shape) != array.shape[1]:
            raise ValueError(
                f"Expected `image_shape` that fits the {array.shape[1]} values of each sample of `{name}` "
                f"(square images are found by themselves). Received: image_shape={image_shape}, "
                f"{name}.shape={array.shape}"
            )
        array = array.reshape((-1,) + tuple(shape))
    if array.ndim != 3 or array.shape[0] == 0:
        raise ValueError(
            f"Expected `{name}` to be one or more grayscale images (n, h, w), (n, h, w, 1) or flat (n, h*w). "
            f"Received: {name}.shape={np.shape(x)}"
        )
    low, high = _validation.value_range(array)
    if low < -_OFF_SCALE or high > 1.0 + _OFF_SCALE:
        # Another scale (0-255 pixels, [-1, 1] from tanh) would show as a white or black picture: say so.
        warnings.warn(
            f"Expected `{name}` to hold intensities in [0, 1]; the picture clips other values to [0, 1]. "
            f"Scale 0-255 pixels by 1/255, [-1, 1] values by (x + 1) / 2. "
            f"Received: {name} with values in [{low:.4g}, {high:.4g}]",
            stacklevel=_errors.users_frame(),
        )
    return array


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write a 2-D uint8 array as an 8-bit grayscale PNG (no imaging library needed).

    Args:
        path: the file to write.
        image: uint8 array of shape `(h, w)`, for example what `tile_images` returns.

    Example:

    ```python
    import numpy as np
    from tfae import plotting

    plotting.write_png("ramp.png", np.tile(np.arange(256, dtype="uint8"), (16, 1)))
    ```
    """
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"Expected a 2-D uint8 image. Received: image of shape {image.shape} and dtype {image.dtype}")
    if 0 in image.shape:  # PNG has no empty images
        raise ValueError(f"Expected an image at least one pixel high and wide. Received: image of shape {image.shape}")
    image = np.ascontiguousarray(image)
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


def tile_images(
    images: Any,
    *,
    columns: int = 10,
    image_shape: tuple[int, int] | None = None,
    scale: int = 1,
) -> np.ndarray:
    """Tile images in rows of `columns` with a one-pixel gray border around each (numpy only).

    Args:
        images: images in [0, 1], shaped `(m, h, w)`, `(m, h, w, 1)` or flat
            `(m, h*w)` (square images are inferred).
        columns: images per row; the last row is padded with gray.
        image_shape: `(h, w)` for flat non-square images.
        scale: integer upscaling of each pixel.

    Returns:
        A uint8 array of shape `(rows * (h + 2) * scale, columns * (w + 2) * scale)`,
        with `rows = ceil(m / columns)` and `columns` at most `m`.

    Example:

    ```python
    import numpy as np
    from tfae import plotting

    tiles = plotting.tile_images(np.random.rand(12, 784), columns=5)
    assert tiles.shape == (3 * 30, 5 * 30) and tiles.dtype == np.uint8
    ```
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
    return np.round(grid * 255).astype(np.uint8)


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


def _finish(figure, path):
    """Lay the figure out, save it when asked, and return it."""
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def _show_tiles(function: str, tiles: np.ndarray, *, title: str | None, path, figsize):
    """A figure and axes showing `tiles` (what `tile_images` returns) pixel for pixel, titled."""
    plt = _pyplot(function, path)
    figure, axes = plt.subplots(figsize=figsize)
    axes.imshow(tiles, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    if title:
        axes.set_title(title)
    return figure, axes


def _tiles_figure(function: str, tiles: np.ndarray, *, title: str | None, path, row_labels=()):
    """A figure showing `tiles` (about 0.5 inch per 28-pixel digit), no axes, rows labelled on the left."""
    height, width = tiles.shape
    figsize = (max(2.5, width / 56), max(1.2, height / 56) + (0.35 if title else 0))
    figure, axes = _show_tiles(function, tiles, title=title, path=path, figsize=figsize)
    axes.set_xticks([])
    axes.set_yticks([])
    if row_labels:
        step = height / len(row_labels)
        axes.set_yticks([step * (i + 0.5) for i in range(len(row_labels))], labels=row_labels)
    for spine in axes.spines.values():
        spine.set_visible(False)
    return _finish(figure, path)


def image_grid(
    images: Any,
    *,
    columns: int = 10,
    image_shape: tuple[int, int] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
):
    """Images in rows of `columns`: samples of a generator, decoded codes, a data set at a glance.

    Args:
        images: images in [0, 1], shaped `(m, h, w)`, `(m, h, w, 1)` or flat
            `(m, h*w)` (square images are inferred).
        columns: images per row; the last row is padded with gray.
        image_shape: `(h, w)` for flat non-square images.
        title: the figure title, if any.
        path: when given, the figure is saved there (PNG, PDF, SVG...).

    Returns:
        The matplotlib `Figure`.

    Example:

    ```python
    import tfae

    (x_train, _), _ = tfae.datasets.load_mnist_sample()
    tfae.plotting.image_grid(x_train[:40], title="MNIST", path="digits.png")
    ```
    """
    tiles = tile_images(images, columns=columns, image_shape=image_shape)
    return _tiles_figure("image_grid", tiles, title=title, path=path)


def reconstruction_grid(
    originals: Any,
    reconstructions: Any,
    *,
    n: int = 10,
    image_shape: tuple[int, int] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
):
    """`n` originals above their reconstructions, as the article's figure shows them.

    Args:
        originals: images in [0, 1], shaped `(m, h, w)`, `(m, h, w, 1)` or
            flat `(m, h*w)` (square images are inferred).
        reconstructions: the same images after the autoencoder, same shape.
        n: how many pairs to show (at most `m`).
        image_shape: `(h, w)` for flat non-square images.
        title: the figure title, if any.
        path: when given, the figure is saved there (PNG, PDF, SVG...).

    Returns:
        The matplotlib `Figure`: two rows, labelled "original" and "reconstruction".

    Example:

    ```python
    import tfae

    _, (x_test, _) = tfae.datasets.load_mnist_sample()
    ae = tfae.AutoEncoder.from_preset("mnist_dense")
    tfae.plotting.reconstruction_grid(x_test[:10], ae.reconstruct(x_test[:10]), path="reconstructions.png")
    ```
    """
    tiles = reconstruction_tiles(originals, reconstructions, n=n, image_shape=image_shape)
    return _tiles_figure("reconstruction_grid", tiles, title=title, path=path,
                         row_labels=("original", "reconstruction"))


def reconstruction_tiles(
    originals: Any, reconstructions: Any, *, n: int = 10, image_shape: tuple[int, int] | None = None, scale: int = 1
) -> np.ndarray:
    """The pixels of `reconstruction_grid` (numpy only): `n` originals tiled above their reconstructions.

    Args:
        originals, reconstructions, n, image_shape: as for `reconstruction_grid`.
        scale: integer upscaling of each pixel.

    Returns:
        A uint8 array of shape `(2 * (h + 2) * scale, n * (w + 2) * scale)`.

    Example:

    ```python
    import numpy as np
    from tfae import plotting

    x = np.random.rand(10, 784)
    plotting.write_png("pairs.png", plotting.reconstruction_tiles(x, x, n=5, scale=2))
    ```
    """
    top = _as_images(originals, "originals", image_shape)
    bottom = _as_images(reconstructions, "reconstructions", image_shape)
    if top.shape != bottom.shape:
        raise ValueError(
            "Expected `reconstructions` to have the shape of `originals`. "
            f"Received: originals {top.shape}, reconstructions {bottom.shape}"
        )
    n = min(_validation.positive_int(n, "n"), top.shape[0])
    pairs = np.clip(np.concatenate([top[:n], bottom[:n]]), 0.0, 1.0)  # each half has warned by its own name
    return tile_images(pairs, columns=n, scale=scale)


def sample_grid(
    model: Any,
    *,
    n: int = 40,
    columns: int = 10,
    seed: int | None = 0,
    image_shape: tuple[int, int] | None = None,
    title: str | None = "Samples",
    path: str | os.PathLike | None = None,
):
    """New images from a generative model: `model.sample(n)` (VAE, AAE) or `model.generate(n)` (GAN).

    Args:
        model: a `tfae.VariationalAutoEncoder`, `tfae.AdversarialAutoEncoder`,
            `tfae.GAN`, or any object with `sample(n, seed=)` or `generate(n, seed=)`
            returning images in [0, 1].
        n: how many samples.
        columns: images per row.
        seed: the seed of the prior draws (None: a fresh draw each call).
        image_shape: `(h, w)` for flat non-square images.
        title: the figure title, if any.
        path: when given, the figure is saved there (PNG, PDF, SVG...).

    Returns:
        The matplotlib `Figure`.

    Example:

    ```python
    import tfae

    vae = tfae.VariationalAutoEncoder.from_preset("mnist_vae")
    tfae.plotting.sample_grid(vae, n=20, path="samples.png")
    ```
    """
    draw = getattr(model, "sample", None) or getattr(model, "generate", None)
    if not callable(draw):
        raise ValueError(f"Expected a generative model with `sample` or `generate`. "
                         f"Received: model of type {type(model).__name__}")
    images = draw(_validation.positive_int(n, "n"), seed=_validation.seed(seed))
    return image_grid(images, columns=columns, image_shape=image_shape, title=title, path=path)


def interpolation_grid(
    model: Any,
    x_a: Any,
    x_b: Any,
    *,
    steps: int = 10,
    image_shape: tuple[int, int] | None = None,
    title: str | None = "Interpolation",
    path: str | os.PathLike | None = None,
):
    """One row per pair: the decoded codes on the straight line from `encode(x_a)` to `encode(x_b)`.

    Args:
        model: any tfae autoencoder (it calls `model.interpolate`).
        x_a, x_b: one sample each, or batches of the same length `n` (one row each).
        steps: images per row, both ends included (>= 2).
        image_shape: `(h, w)` for flat non-square images.
        title: the figure title, if any.
        path: when given, the figure is saved there (PNG, PDF, SVG...).

    Returns:
        The matplotlib `Figure`: `n` rows of `steps` images.

    Example:

    ```python
    import tfae

    _, (x_test, _) = tfae.datasets.load_mnist_sample()
    ae = tfae.AutoEncoder.from_preset("mnist_dense")
    tfae.plotting.interpolation_grid(ae, x_test[:3], x_test[3:6], steps=8, path="interpolation.png")
    ```
    """
    line = np.asarray(model.interpolate(x_a, x_b, steps=steps))
    images = line.reshape((-1,) + tuple(model.sample_shape))
    return image_grid(images, columns=steps, image_shape=image_shape, title=title, path=path)


def latent_manifold(
    model: Any,
    *,
    n: int = 15,
    extent: tuple[float, float, float, float] = (-2.0, 2.0, -2.0, 2.0),
    image_shape: tuple[int, int] | None = None,
    title: str | None = "Latent manifold",
    path: str | os.PathLike | None = None,
):
    """The decoder's images over an `n` x `n` grid of 2-d codes, as in the keras-io VAE example.

    Args:
        model: a tfae autoencoder with 2-d codes (`latent_dim == 2`), for example a
            `VariationalAutoEncoder(latent_dim=2)`.
        n: images per side.
        extent: `(z0_min, z0_max, z1_min, z1_max)`, the square of codes shown;
            `z0` grows to the right, `z1` upwards. The default covers +-2 standard
            deviations of a VAE's prior.
        image_shape: `(h, w)` for flat non-square images.
        title: the figure title, if any.
        path: when given, the figure is saved there (PNG, PDF, SVG...).

    Returns:
        The matplotlib `Figure`, its axes labelled with the code values.

    Example:

    ```python
    import tfae

    vae = tfae.VariationalAutoEncoder.from_preset("mnist_vae")
    tfae.plotting.latent_manifold(vae, n=10, path="manifold.png")
    ```
    """
    latent_dim = getattr(model, "latent_dim", None)
    if latent_dim != 2 or not callable(getattr(model, "decode", None)):
        raise ValueError(f"Expected a model with `decode` and 2-d codes. "
                         f"Received: model of type {type(model).__name__} with latent_dim={latent_dim}")
    n = _validation.positive_int(n, "n")
    if n < 2:
        raise ValueError(f"Expected `n` >= 2. Received: n={n}")
    if len(tuple(extent)) != 4 or not all(np.isfinite(extent)) or extent[0] >= extent[1] or extent[2] >= extent[3]:
        raise ValueError(f"Expected `extent` = (z0_min, z0_max, z1_min, z1_max) with min < max. Received: extent={extent}")
    z0 = np.linspace(extent[0], extent[1], n, dtype=np.float32)
    z1 = np.linspace(extent[3], extent[2], n, dtype=np.float32)  # top row: the largest z1
    codes = np.stack(np.meshgrid(z0, z1), axis=-1).reshape(-1, 2)
    tiles = tile_images(model.decode(codes), columns=n, image_shape=image_shape)
    height, width = tiles.shape
    figsize = (max(3.0, width / 56 + 0.8), max(3.0, height / 56 + 0.8))
    figure, axes = _show_tiles("latent_manifold", tiles, title=title, path=path, figsize=figsize)
    cell_w, cell_h = width / n, height / n
    ticks = range(0, n, max(1, n // 5))
    axes.set_xticks([cell_w * (i + 0.5) for i in ticks], labels=[f"{z0[i]:.1f}" for i in ticks])
    axes.set_yticks([cell_h * (i + 0.5) for i in ticks], labels=[f"{z1[i]:.1f}" for i in ticks])
    axes.set_xlabel("z[0]")
    axes.set_ylabel("z[1]")
    return _finish(figure, path)


def loss_curves(history: Any, *, validation_freq: Any = 1, path: str | os.PathLike | None = None,
                title: str = "Training"):
    """Every loss and metric of a Keras `History` (or its `.history` dict) against the epoch, one panel each.

    Args:
        history: what `fit` returns, or its `history` dict `{name: [value per epoch]}`.
            A `History` also gives the epoch numbers (after `initial_epoch`, say).
        validation_freq: as given to `fit` (a positive integer, or the
            epochs to validate after): the `val_` curves are drawn at the
            epochs where Keras validated. Defaults to 1, every epoch.
        path: when given, the figure is saved there (PNG, PDF, SVG...).
        title: the figure title.

    Returns:
        The matplotlib `Figure`: one panel per quantity, with its `val_` twin
        on the same axes.

    Example:

    ```python
    from tfae import plotting

    history = {"loss": [0.2, 0.12, 0.1, 0.09], "val_loss": [0.11, 0.09]}
    plotting.loss_curves(history, validation_freq=2, path="loss.png")
    ```
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs or not all(isinstance(v, (list, tuple)) for v in logs.values()):
        raise ValueError(f"Expected a Keras History or a dict of per-epoch lists. Received: history={history!r}")
    names = [name for name in logs if not name.startswith("val_")] or list(logs)
    count = len(logs[names[0]])
    epochs = np.asarray(getattr(history, "epoch", range(count)))[:count] + 1  # Keras counts from 0
    validated = _validated_epochs(epochs, validation_freq)
    for name in logs:
        expected = validated if name.startswith("val_") and name[4:] in logs else epochs
        if len(logs[name]) != len(expected):
            raise ValueError(
                f"Expected `{name}` to hold one value per {'validation' if expected is validated else 'epoch'}: "
                f"{len(expected)} for {count} epochs with validation_freq={validation_freq!r} (pass the "
                f"`validation_freq` given to `fit`). Received: history[{name!r}] with {len(logs[name])} values"
            )
    plt = _pyplot("loss_curves", path)
    figure, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for panel, name in zip(axes[0], names):
        panel.plot(epochs, logs[name], marker="o", label=name)
        if f"val_{name}" in logs and not name.startswith("val_"):
            panel.plot(validated, logs[f"val_{name}"], marker="o", label=f"val_{name}")
        panel.set_xlabel("epoch")
        panel.set_title(name)
        panel.legend()
    figure.suptitle(title)
    return _finish(figure, path)


def _validated_epochs(epochs: np.ndarray, validation_freq: Any) -> np.ndarray:
    """The epochs (counted from 1) after which Keras' `fit` validates, for its `validation_freq`."""
    if isinstance(validation_freq, (list, tuple, range, set)):
        chosen = {_validation.positive_int(epoch, "validation_freq") for epoch in validation_freq}
        return epochs[[epoch in chosen for epoch in epochs.tolist()]]
    return epochs[epochs % _validation.positive_int(validation_freq, "validation_freq") == 0]


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

    Example:

    ```python
    import tfae

    _, (x_test, y_test) = tfae.datasets.load_mnist_sample()
    ae = tfae.AutoEncoder.from_preset("mnist_dense")
    tfae.plotting.latent_scatter(ae.encode(x_test), y_test, path="latent.png")
    ```
    """
    z = _validation.as_float_array(codes, name="codes")
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"Expected `codes` of shape (n, latent_dim), n >= 1. Received: codes.shape={z.shape}")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != z.shape[0]:
            raise ValueError(
                f"Expected one label per code ({z.shape[0]}). Received: labels.shape={labels.shape}"
            )
    plt = _pyplot("latent_scatter", path)
    if z.shape[1] > 2:
        centred = z - z.mean(axis=0)
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        z = centred @ components[:2].T
        if z.shape[1] < 2:  # a single code has one principal direction at most
            z = np.concatenate([z, np.zeros((len(z), 2 - z.shape[1]), z.dtype)], axis=1)
        axes_labels = ("PC 1", "PC 2")
    elif z.shape[1] == 2:
        axes_labels = ("z[0]", "z[1]")
    else:
        z = np.concatenate([z, np.zeros_like(z)], axis=1)
        axes_labels = ("z[0]", "")
    figure, axes = plt.subplots(figsize=(6, 5))
    points = axes.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7)
    if labels is not None:
        figure.colorbar(points, ax=axes, label="label")
    axes.set_xlabel(axes_labels[0])
    axes.set_ylabel(axes_labels[1])
    axes.set_title(title)
    return _finish(figure, path)
