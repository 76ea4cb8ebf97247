"""The benchmarks page's pictures, drawn from the recorded results (no benchmark is rerun).

    python -m benchmarks.plots        # writes docs/images/benchmark_*.png from benchmarks/results/*.json
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

RESULTS = Path(__file__).parent / "results"
IMAGES = Path(__file__).parent.parent / "docs" / "images"


def training_speed(results: dict, title: str, path: Path) -> None:
    """One panel per backend: training samples/s of every contender at each batch size (median run)."""
    backends = results["backends"]
    figure, axes = plt.subplots(1, len(backends), figsize=(5.2 * len(backends), 4), squeeze=False)
    for panel, backend in zip(axes[0], backends):
        batches = list(backend["train"])
        contenders = list(backend["train"][batches[0]])
        width = 0.8 / len(contenders)
        for i, name in enumerate(contenders):
            speeds = [backend["train"][batch].get(name, {}).get("samples_per_s", np.nan) / 1000 for batch in batches]
            panel.bar(np.arange(len(batches)) + i * width, speeds, width, label=name)
        panel.set_xticks(np.arange(len(batches)) + width * (len(contenders) - 1) / 2, [f"batch {b}" for b in batches])
        panel.set_ylabel("thousand samples/s")
        panel.set_title(f"{backend['backend']} backend")
        panel.legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    for name, title in (("cpu", "fit on full MNIST, 2 CPU cores"), ("h200", "fit on full MNIST, one H200")):
        file = RESULTS / f"{name}.json"
        if file.exists():
            results = json.loads(file.read_text())
            if results.get("backends"):
                training_speed(results, title, IMAGES / f"benchmark_{name}.png")
                print(f"wrote {IMAGES / f'benchmark_{name}.png'}")


if __name__ == "__main__":
    main()
