"""Quiet start-up for the `tfae` command: TensorFlow's import-time log lines stay hidden unless asked for.

TensorFlow's C++ runtime writes lines such as "Could not find cuda drivers" straight
to file descriptor 2 while it is imported, before `TF_CPP_MIN_LOG_LEVEL` is read, and
an error-level "failed call to cuInit" when its devices start (the first operation,
on a machine with a CUDA driver library but no GPU), so the devices start here too.
For the command line only (never for a program that imports tfae), the level
defaults to 2 (a user's own setting is kept) and, unless the user asked for every
line with `TF_CPP_MIN_LOG_LEVEL=0`, descriptor 2 is parked in a temporary file
during the import; if the import fails, what was parked is written out before the
error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path


def is_command_line() -> bool:
    """Whether this process is the `tfae` command (the console script or `python -m tfae`)."""
    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    orig_argv = getattr(sys, "orig_argv", [])
    return script in ("tfae", "tfae.exe") or orig_argv[1:3] == ["-m", "tfae"]


@contextlib.contextmanager
def quiet_tensorflow_import():
    """Hide TensorFlow's start-up lines while the block imports it (see the module docstring)."""
    if not is_command_line() or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0":
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as parked:
        os.dup2(parked.fileno(), 2)
        try:
            yield
            _start_devices()
        except BaseException:
            os.dup2(saved, 2)
            parked.seek(0)
            sys.stderr.write(parked.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _start_devices() -> None:
    """Start TensorFlow's devices now, if Keras imported it, so their start-up lines are parked too."""
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None and hasattr(tensorflow, "config"):
        tensorflow.config.list_physical_devices()
