"""Reader for the IDX format MNIST is distributed in (optionally gzip-compressed).

Every size is checked against the header before the payload is read, so a
truncated, corrupt or lying file fails with a clear message instead of a huge
allocation or a reshape error.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from tfae import _validation
from tfae.datasets._npy import DataFileError

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# Deflate cannot compress better than about 1032:1, which bounds what a .gz file
# of a given size can honestly decompress to.
_MAX_DEFLATE_RATIO = 1032


class IDXError(DataFileError):
    """An IDX file is malformed: bad magic number, truncated, or sizes that disagree.

    Example:

    ```python
    with open("broken-idx1-ubyte", "wb") as file:
        file.write(b"not an IDX file")
    try:
        tfae.datasets.read_idx("broken-idx1-ubyte")
    except tfae.datasets.IDXError as error:
        print(error)                                      # names the file and what is wrong
    ```
    """


def _fail(path: Path, why: str) -> IDXError:
    return IDXError(f"Cannot read IDX file '{path}': {why}")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (`.gz` or plain) into a numpy array of the stored dtype and shape.

    Args:
        path: the IDX file, for example `train-images-idx3-ubyte.gz`.

    Returns:
        The array the file holds: `(n, 28, 28)` uint8 for MNIST images, `(n,)` for labels.

    Raises:
        IDXError: when the header is malformed or disagrees with the file's size.

    Example:

    ```python
    import gzip, struct

    with gzip.open("labels-idx1-ubyte.gz", "wb") as file:   # an IDX file of three uint8 labels
        file.write(struct.pack(">HBBI", 0, 0x08, 1, 3) + bytes([7, 2, 1]))
    assert tfae.datasets.read_idx("labels-idx1-ubyte.gz").tolist() == [7, 2, 1]
    ```
    """
    path = _validation.path(path, "path")
    if path.is_dir():
        raise ValueError(f"Expected `path` to be an IDX file. Received: path={str(path)!r}, a folder")
    with _stream(path) as stream:
        dims, dtype = _read_header(stream, path)
        payload_size = math.prod(dims) * dtype.itemsize
        payload = stream.read(payload_size)
        if len(payload) != payload_size:
            raise _fail(
                path,
                f"the header declares shape {dims} ({payload_size} data bytes) but only "
                f"{len(payload)} are present (truncated file?)",
            )
        if stream.read(1):
            raise _fail(path, f"there is data after the {payload_size} bytes of shape {dims}")
    return np.frombuffer(payload, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def idx_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """`(shape, dtype)` of an IDX file from its header alone, checked against the file's size."""
    path = Path(path)
    with _stream(path) as stream:
        return _read_header(stream, path)


@contextlib.contextmanager
def _stream(path: Path):
    """The file opened for reading (gunzipped for `.gz`); a broken stream becomes an `IDXError`."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as stream:
            yield stream
    except FileNotFoundError:
        raise
    except (EOFError, OSError, zlib.error) as error:
        raise _fail(path, f"the compressed stream is corrupt ({error})") from None


def _read_header(stream, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    header = stream.read(4)
    if len(header) < 4:
        raise _fail(path, f"the file ends inside the 4-byte header ({len(header)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", header)
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise _fail(path, f"bad magic number 0x{header.hex()} (expected 0x0000, a type code and a rank)")
    dims_bytes = stream.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise _fail(path, f"the file ends inside the header of a rank-{ndim} array")
    dims = struct.unpack(f">{ndim}I", dims_bytes)
    dtype = _DTYPES[code]
    expected_total = 4 + 4 * ndim + math.prod(dims) * dtype.itemsize
    file_size = path.stat().st_size
    if path.suffix == ".gz":
        if expected_total > file_size * _MAX_DEFLATE_RATIO:
            raise _fail(
                path,
                f"the header declares shape {dims} ({expected_total} bytes), more than "
                f"a {file_size}-byte gzip file can hold",
            )
    elif expected_total != file_size:
        raise _fail(
            path, f"the header declares shape {dims} ({expected_total} bytes) but the file has {file_size} bytes"
        )
    return dims, dtype
