"""`AnomalyDetector`: reconstruction error as an outlier score, with scikit-learn's detector conventions."""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tfae import _files, _validation
from tfae.models._saving import load_model

_STATE_FILE = "detector.json"
_MODEL_FILE = "autoencoder.keras"
_SCORES_FILE = "decision_scores.npy"
_FILES = (_STATE_FILE, _MODEL_FILE, _SCORES_FILE)


def _checked_autoencoder(autoencoder: Any) -> keras.Model:
    if not callable(getattr(autoencoder, "reconstruction_error", None)):
        raise ValueError(
            "Expected `autoencoder` to be a tfae autoencoder (with `reconstruction_error`). "
            f"Received: autoencoder of type {type(autoencoder).__name__}"
        )
    return autoencoder


def _checked_contamination(contamination: Any) -> float:
    if (isinstance(contamination, bool) or not isinstance(contamination, numbers.Real)
            or not 0.0 < contamination <= 0.5):
        raise ValueError(f"Expected `contamination` to be a number in (0, 0.5]. "
                         f"Received: contamination={contamination!r}")
    return float(contamination)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _checked_state(state: Any) -> tuple[float, float]:
    """`(contamination, threshold)` from the state JSON, or a ValueError saying which field is wrong."""
    if not isinstance(state, dict):
        raise ValueError(f"{_STATE_FILE}: expected an object, got {type(state).__name__}")
    missing = sorted({"contamination", "threshold"} - set(state))
    if missing:
        raise ValueError(f"{_STATE_FILE}: missing field(s) {missing}")
    threshold = state["threshold"]
    if not _validation.finite_real(threshold):
        raise ValueError(f"{_STATE_FILE}: expected a finite number as threshold, got {_short(threshold)}")
    try:
        contamination = _checked_contamination(state["contamination"])
    except ValueError as error:
        raise ValueError(f"{_STATE_FILE}: {error}") from None
    return contamination, float(threshold)


class AnomalyDetector:
    """Scores samples by how badly an autoencoder reconstructs them; flags the worst as anomalies.

    Follows the conventions of scikit-learn's and PyOD's detectors
    (`get_params`/`set_params`, so `sklearn.base.clone` and `Pipeline` take
    it; `fit(x, y=None)`): `fit(x)` sets `decision_scores_` (the training samples' scores) and `threshold_`
    (their `1 - contamination` quantile); `decision_function(x)` scores new
    samples (higher is more anomalous); `predict(x)` gives 0 (normal) or 1
    (anomaly); `predict_proba(x)` the probabilities of both, from the scores
    scaled to [0, 1] by the training scores' range (PyOD's "linear" method).
    The score is `autoencoder.reconstruction_error(x)`: with a cross-entropy
    loss, samples must lie in [0, 1] (outside it the loss has no lower bound,
    so an outlier could score as normal), and are refused otherwise; clip new
    data to [0, 1], or train the autoencoder with `loss="mse"`.

    Args:
        autoencoder: a `tfae.AutoEncoder` (or any model of the family), trained
            or to be trained by `fit(x, epochs=...)`.
        contamination: float in (0, 0.5]: the expected share of anomalies in
            the training data. Defaults to 0.1.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(64,))
    ae.compile()
    detector = tfae.AnomalyDetector(ae, contamination=0.05).fit(x_train, epochs=1, verbose=0)
    labels = detector.predict(x_test)          # 1 = anomaly
    ```
    """

    def __init__(self, autoencoder: keras.Model, *, contamination: float = 0.1) -> None:
        self.autoencoder = _checked_autoencoder(autoencoder)
        self.contamination = _checked_contamination(contamination)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as scikit-learn's `clone`, `Pipeline` and searches read them."""
        return {"autoencoder": self.autoencoder, "contamination": self.contamination}

    def set_params(self, **params: Any) -> AnomalyDetector:
        """Sets constructor arguments by name (checked as the constructor checks them); returns the detector."""
        known = sorted(self.get_params())
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"Expected parameters among {known}. Received: {unknown}")
        if "autoencoder" in params:
            self.autoencoder = _checked_autoencoder(params["autoencoder"])
        if "contamination" in params:
            self.contamination = _checked_contamination(params["contamination"])
        return self

    def fit(self, x: Any, y: Any = None, *, epochs: int = 0, **fit_kwargs: Any) -> AnomalyDetector:
        """Sets the threshold from the scores of `x`; trains the autoencoder on `x` first if `epochs > 0`.

        Args:
            x: training samples (mostly normal).
            y: ignored: detection is unsupervised; here so that scikit-learn's
                `Pipeline` can call `fit(x, None)`.
            epochs: int >= 0. Epochs to train the autoencoder on `x` first
                (compiled with its defaults when it is not compiled). Defaults
                to 0: the autoencoder is used as it is.
            **fit_kwargs: further `fit` arguments (`batch_size`, `verbose`, ...).

        Returns:
            The detector itself.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"Expected `epochs` to be an integer >= 0. Received: epochs={epochs!r}")
        if epochs:
            if not self.autoencoder.compiled:
                self.autoencoder.compile()
            self.autoencoder.fit(x, epochs=epochs, **fit_kwargs)
        elif fit_kwargs:
            raise ValueError(f"`fit` arguments are used only with epochs > 0. Received: {sorted(fit_kwargs)} "
                             "with epochs=0")
        self.decision_scores_ = self.autoencoder.reconstruction_error(x)
        self.threshold_ = float(np.quantile(self.decision_scores_, 1.0 - self.contamination))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        return self

    def _require_fitted(self, method: str) -> None:
        if not hasattr(self, "threshold_"):
            raise ValueError(f"`{method}()` needs a fitted detector: call `fit(x)` first.")

    def decision_function(self, x: Any) -> np.ndarray:
        """Anomaly scores of `x`, shape `(n,)`: each sample's reconstruction error (higher is more anomalous)."""
        return self.autoencoder.reconstruction_error(x)

    def predict(self, x: Any) -> np.ndarray:
        """0 (normal) or 1 (anomaly) per sample, shape `(n,)`: whether its score exceeds `threshold_`."""
        self._require_fitted("predict")
        return (self.decision_function(x) > self.threshold_).astype(np.int64)

    def predict_proba(self, x: Any) -> np.ndarray:
        """`[P(normal), P(anomaly)]` per sample, shape `(n, 2)`: scores min-max scaled by the training scores."""
        self._require_fitted("predict_proba")
        low, high = float(self.decision_scores_.min()), float(self.decision_scores_.max())
        anomaly = np.clip((self.decision_function(x) - low) / max(high - low, 1e-12), 0.0, 1.0)
        return np.stack([1.0 - anomaly, anomaly], axis=1)

    # ------------------------------------------------------------- saving
    def save(self, path: str | os.PathLike) -> None:
        """Writes the detector into the folder `path`: the model (`.keras`), its state as JSON and `.npy`.

        The three files are written into a new folder that then takes the place of `path` (a folder of an
        earlier save; any other folder is refused), so a save that fails or is killed never leaves a model
        beside another model's threshold.
        """
        self._require_fitted("save")
        folder = _validation.path(path, "path")

        def write(partial: Path) -> None:
            self.autoencoder.save(partial / _MODEL_FILE)
            np.save(partial / _SCORES_FILE, self.decision_scores_, allow_pickle=False)
            state = {"contamination": self.contamination, "threshold": self.threshold_}
            (partial / _STATE_FILE).write_text(json.dumps(state), encoding="utf-8")

        _files.write_folder(folder, write, replaceable=lambda old: {p.name for p in old.iterdir()} <= set(_FILES))

    @classmethod
    def load(cls, path: str | os.PathLike) -> AnomalyDetector:
        """The detector saved in the folder `path` (the model loads in Keras' safe mode; nothing is unpickled)."""
        folder = _validation.path(path, "path")
        _files.recover_folder(folder)  # a save killed between its two renames left it beside
        try:
            state = json.loads((folder / _STATE_FILE).read_text(encoding="utf-8"))
            scores = np.load(folder / _SCORES_FILE, allow_pickle=False)
            contamination, threshold = _checked_state(state)
            if scores.ndim != 1 or scores.size == 0 or not np.issubdtype(scores.dtype, np.floating):
                raise ValueError(f"{_SCORES_FILE}: expected a 1-D float array of the training scores, "
                                 f"got shape {scores.shape} and dtype {scores.dtype}")
        except (OSError, ValueError) as error:
            raise ValueError(f"Expected a folder written by AnomalyDetector.save. Received: path={str(path)!r} "
                             f"({error})") from None
        model = load_model(folder / _MODEL_FILE)
        detector = cls(model, contamination=contamination)
        detector.decision_scores_ = scores.astype(np.float32)
        detector.threshold_ = threshold
        detector.labels_ = (detector.decision_scores_ > detector.threshold_).astype(np.int64)
        return detector
