"""How tfae words an error raised below it (TensorFlow, Keras, zipfile, h5py) inside one of its own messages,
and where its warnings point.

TensorFlow wraps the reason of a failure in node names, stack traces and op decorations; a tfae message
quotes only the line that says what went wrong, so a user reads the cause, not a trace.
"""

from __future__ import annotations

import os
import re
import sys

# The lines TensorFlow puts around the reason of a graph execution error.
_TRACE_LINE = re.compile(r"Graph execution error:|Detected at node |File \"|Node: |\[\[|Original stack trace")
# What TensorFlow adds around an eager op's reason: `{{function_node ...}}` before it, ` [Op:Name]` after it.
_OP_DECORATION = re.compile(r"\{\{.*?\}\}\s*|\s*\[Op:\w+\]")
# A reason is one line of a message, not a dump of a file's bytes.
MAX_REASON = 300
# Why Keras' safe mode refused a file, in tfae's words (Keras' own advice names arguments tfae may not have).
HOLDS_CODE = "it holds code (such as a Lambda layer) that safe mode will not run"


def reason(error: BaseException, *, typed: bool = False) -> str:
    """The first line of `error`'s text that says what went wrong, at most `MAX_REASON` characters.

    Lines of TensorFlow's trace and its op decorations are left out; an error with no other line is named
    by its type. With `typed`, the type comes first (`BadZipFile: File is not a zip file`).
    """
    for line in str(error).splitlines():
        line = _OP_DECORATION.sub("", line).strip()
        if line and not _TRACE_LINE.match(line):
            return f"{type(error).__name__}: {line[:MAX_REASON]}" if typed else line[:MAX_REASON]
    return type(error).__name__


def refused_by_safe_mode(error: BaseException) -> bool:
    """Whether `error` is Keras' safe mode refusing to deserialize code, such as a Lambda layer's function."""
    return "safe_mode" in str(error) or "unsafe" in str(error).lower()


# The packages whose frames a warning of tfae's passes over to point at the user's line.
FRAMEWORKS = ("tfae", "keras", "tensorflow", "jax", "torch")


def users_frame() -> int:
    """`warnings.warn`'s stacklevel of the first caller outside tfae, Keras and the backends: the user's line."""
    packages = tuple(os.path.dirname(sys.modules[name].__file__) + os.sep for name in FRAMEWORKS
                     if name in sys.modules)
    frame, level = sys._getframe(1), 1  # the caller of this function, which calls `warnings.warn`
    while frame is not None and frame.f_code.co_filename.startswith(packages):
        frame, level = frame.f_back, level + 1
    return level
