"""Bounded readers for numpy's `.npy` and `.npz` files: never pickle, never allocate past the file.

`np.load` trusts a file's header: an `.npz` member that declares a huge shape
is allocated in full before a byte of it is read. Here each header is checked
against the bytes the file (or the zip member) really holds first, so a
truncated, corrupt or lying file is a `DataFileError` naming it.
"""

from __future__ import annotations

import math
import os
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

# Deflate cannot compress better than about 1032:1 (see tfae.datasets._idx).
_MAX_DEFLATE_RATIO = 1032


class DataFileError(ValueError):
    """A data file (IDX, `.npy`, `.npz`) is malformed, truncated, or holds values tfae refuses.

    `tfae.datasets.IDXError` is one kind of it.

    Example:

    ```python
    with open("broken.npy", "wb") as file:
        file.write(b"\\x93NUMPY broken")
    try:
        tfae.datasets.load_mnist("broken.npy")
    except tfae.datasets.DataFileError as error:
        print(error)                                      # names the file and what is wrong
    ```
    """


def _fail(path: Path | str, why: str) -> DataFileError:
    return DataFileError(f"Cannot read '{path}': {why}")


def _read_header(stream: BinaryIO, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """`(shape, fortran_order, dtype)` of the `.npy` stream, positioned at its payload."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise _fail(where, f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise _fail(where, f"it holds Python objects (dtype {dtype}), which tfae never unpickles")
    return tuple(int(d) for d in shape), bool(fortran), dtype


def _read_sized_header(stream: BinaryIO, where: str, available: int) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The header of a `.npy` stream of `available` bytes, whose payload must fill the rest exactly."""
    start = stream.tell()
    shape, fortran, dtype = _read_header(stream, where)
    size = math.prod(shape) * dtype.itemsize
    left = available - (stream.tell() - start)
    if size != left:
        raise _fail(where, f"the header declares shape {shape} of {dtype} ({size} bytes) but {left} bytes follow it")
    return shape, fortran, dtype


def _read_payload(stream: BinaryIO, where: str, available: int) -> np.ndarray:
    """The array of a `.npy` stream holding exactly `available` bytes."""
    shape, fortran, dtype = _read_sized_header(stream, where, available)
    size = math.prod(shape) * dtype.itemsize
    payload = stream.read(size)
    if len(payload) != size:
        raise _fail(where, f"the header declares {size} data bytes but only {len(payload)} are present")
    array = np.frombuffer(payload, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


# np.lib.format parses headers with `ast` and `tokenize`: their errors mean a damaged header too.
_FORMAT_ERRORS = (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile, SyntaxError, TypeError,
                  tokenize.TokenError, KeyError, IndexError, OverflowError, NotImplementedError,
                  RuntimeError)  # zipfile: an encrypted member


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """The array of one `.npy` file (a writeable copy, in native byte order)."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            array = _read_payload(stream, str(path), path.stat().st_size)
    except DataFileError:
        raise
    except FileNotFoundError:
        raise
    except _FORMAT_ERRORS as error:
        raise _fail(path, f"not a valid .npy file ({error})") from None
    return np.array(array, dtype=array.dtype.newbyteorder("="))


def npz_shapes(path: str | os.PathLike) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """`{name: (shape, dtype)}` for every array of an `.npz` file, from the headers alone."""
    path = Path(path)
    shapes = {}
    with _open_zip(path) as archive:
        for info in _members(archive, path):
            where = f"{path}:{info.filename}"
            try:
                with archive.open(info) as stream:
                    shape, _, dtype = _read_sized_header(stream, where, info.file_size)
            except DataFileError:
                raise
            except _FORMAT_ERRORS as error:
                raise _fail(where, f"not a valid .npy member ({error})") from None
            shapes[info.filename[: -len(".npy")]] = (shape, dtype)
    return shapes


def read_npz(path: str | os.PathLike, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an `.npz` file (`names`, or all of them), each checked against its member's size."""
    path = Path(path)
    arrays = {}
    with _open_zip(path) as archive:
        members = {info.filename[: -len(".npy")]: info for info in _members(archive, path)}
        missing = [name for name in names or [] if name not in members]
        if missing:
            raise _fail(path, f"it lacks the array(s) {missing}; it holds {sorted(members)}")
        for name in names or list(members):
            info = members[name]
            where = f"{path}:{info.filename}"
            try:
                with archive.open(info) as stream:
                    array = _read_payload(stream, where, info.file_size)
            except DataFileError:
                raise
            except _FORMAT_ERRORS as error:
                raise _fail(where, f"not a valid .npy member ({error})") from None
            arrays[name] = np.array(array, dtype=array.dtype.newbyteorder("="))
    return arrays


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        return zipfile.ZipFile(path)
    except _FORMAT_ERRORS as error:
        raise _fail(path, f"not a valid .npz (zip) file ({error})") from None


def _members(archive: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """The archive's members, each checked against the bytes the archive really holds (the zip's own
    directory states the sizes, and may lie)."""
    members, size = [], path.stat().st_size
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _fail(path, f"its member {info.filename!r} is not an .npy array")
        if info.header_offset + info.compress_size > size or (
                info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size):
            raise _fail(path, f"its member {info.filename!r} claims {info.compress_size} stored bytes at offset "
                              f"{info.header_offset}, more than the {size}-byte file holds")
        if info.file_size > max(info.compress_size, 1) * _MAX_DEFLATE_RATIO + 1024:
            raise _fail(path, f"its member {info.filename!r} claims {info.file_size} bytes, more than "
                              f"{info.compress_size} compressed bytes can hold")
        members.append(info)
    return members
