"""`tfae.GraphAutoEncoder.fit` against the article's feed_dict loop: same model, batch size and data.

    python -m benchmarks.graph_vs_article            # full MNIST, batch sizes 32, 64 and 256, 3 repeats

Both run in this process only (no other framework's threads around), interleaved, one warm-up epoch
each; the medians and their ratio go to `benchmarks/results/graph_vs_article.json`.
"""

from __future__ import annotations

import json
import statistics
import sys

from benchmarks.article import ArticleAutoEncoder
from benchmarks.run import RESULTS, environment, interleaved, load_data


def main(repeats: int = 3) -> None:
    import tfae

    x, _, data = load_data(None)
    rows = []
    for batch_size in (32, 64, 256):
        article, graph = ArticleAutoEncoder(seed=0), tfae.GraphAutoEncoder(784, 128, seed=0)
        speeds = interleaved(
            {
                "article": lambda article=article, b=batch_size: article.train(x, epochs=1, batch_size=b),
                "graph": lambda graph=graph, b=batch_size: graph.fit(x, epochs=1, batch_size=b, verbose=0),
            },
            repeats,
            len(x),
        )
        a, g = statistics.median(speeds["article"]), statistics.median(speeds["graph"])
        rows.append({"batch_size": batch_size, "article": a, "graph": g, "ratio": g / a, "runs": speeds})
        print(f"| {batch_size} | {a:,.0f} | {g:,.0f} | {g / a:.2f}x |", flush=True)
        article.close()
        graph.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"data": data, "environment": environment(), "rows": rows}
    (RESULTS / "graph_vs_article.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
