"""Atomic `save` / `save_weights` for tfae's models: a crash mid-save never destroys the previous file.

Keras writes `.keras` and `.weights.h5` files in place, so a process killed
while saving (by the user, the OOM killer, a pre-empted VM) leaves a stub
where the last good model was, and `ModelCheckpoint` saves through the same
calls. Here Keras writes a hidden file beside the target, which then replaces
the target in one rename (`tfae._files`); a partial file a killed save left
behind is removed by the next save of the same target.
"""

from __future__ import annotations

import os
from pathlib import Path

from tfae import _files


def _local_file(filepath) -> Path | None:
    """`filepath` as a local path, or None where Keras' own writing must stand (remote or file objects)."""
    if not isinstance(filepath, (str, os.PathLike)) or "://" in str(filepath):
        return None
    return Path(filepath)


class AtomicSaving:
    """`keras.Model.save` and `save_weights`, written beside the target and moved into place."""

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        path = _local_file(filepath)
        if path is None or zipped is False or path.suffix != ".keras" or (path.exists() and not overwrite):
            return super().save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)  # Keras' own cases
        _files.write_file(path, lambda partial: super(AtomicSaving, self).save(partial, overwrite=True,
                                                                             zipped=zipped, **kwargs))

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        path = _local_file(filepath)
        if (path is None or max_shard_size is not None or not path.name.endswith(".weights.h5")
                or (path.exists() and not overwrite)):
            return super().save_weights(filepath, overwrite=overwrite, max_shard_size=max_shard_size)
        _files.write_file(path, lambda partial: super(AtomicSaving, self).save_weights(partial, overwrite=True))
