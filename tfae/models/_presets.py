"""`from_preset` / `save_to_preset` for tfae's models (the files and their layout: `tfae.presets`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tfae import presets


class Presets:
    """keras-hub's preset methods, offline: the shipped presets live inside the package."""

    @classmethod
    def from_preset(cls, preset: str | os.PathLike):
        """A pretrained model: a preset shipped with tfae (`tfae.list_presets()`) or a preset folder.

        Loaded offline, in Keras' safe mode. Called on a subclass, the preset
        must hold a model of that class (`VariationalAutoEncoder.from_preset`
        refuses a plain autoencoder).
        """
        return presets.load_preset(preset, expected=cls)

    def save_to_preset(self, path: str | os.PathLike, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write the model as a preset folder (`config.json`, `model.weights.h5`, `metadata.json`)."""
        return presets.save_preset(self, path, metadata=metadata)
