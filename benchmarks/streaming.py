"""Data that does not fit in memory: `fit` on input read from files, tfae against plain Keras on the same input.

    python -m benchmarks.streaming                # full MNIST as TFRecord shards, 3 repeats
    python -m benchmarks.streaming --quick        # 10,000 samples, 1 repeat: a smoke run

MNIST (`../shared/data/mnist`, else tfae's sample) is written once as TFRecord shards of raw uint8
images in a temporary folder. Every contender reads them back through the same pipeline a user would
write (`TFRecordDataset` -> batch -> parse -> scale to [0, 1] -> prefetch) and trains the article's
784-256-128-784 model for one epoch; contenders are interleaved, medians reported. tfae streams a
`tf.data.Dataset` in chunks (TensorFlow backend); a Python generator and a `keras.utils.PyDataset` over
the same shards go through Keras' own loop in both, and are measured to say so. Peak RSS of a streamed
`fit` is measured in fresh processes over one and five passes of the shards per epoch, to show that it
does not grow with the data. Results: `benchmarks/results/streaming.json`, table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.run import RESULTS, child, environment, interleaved, load_data, peak_rss_during

SHARDS = 10
PIXELS = 784


def write_shards(x: np.ndarray, folder: Path) -> list[str]:
    """`x` (floats in [0, 1]) as `SHARDS` TFRecord files of one raw uint8 image per record."""
    import tensorflow as tf

    images = np.round(x * 255).astype(np.uint8)
    paths = []
    for i, part in enumerate(np.array_split(images, SHARDS)):
        path = str(folder / f"mnist-{i:02d}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for image in part:
                feature = tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()]))
                writer.write(tf.train.Example(features=tf.train.Features(feature={"image": feature}))
                             .SerializeToString())
        paths.append(path)
    return paths


def parse_images(records):
    """A batch of serialized records as float32 images in [0, 1], shape `(n, PIXELS)` (TensorFlow ops)."""
    import tensorflow as tf

    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    raw = tf.io.decode_raw(tf.io.parse_example(records, spec)["image"], tf.uint8)
    return tf.cast(tf.reshape(raw, (-1, PIXELS)), tf.float32) / 255.0


def tf_dataset(paths: list[str], batch_size: int, *, pairs: bool, passes: int = 1):
    """The pipeline a user writes: records batched, parsed and scaled in parallel, prefetched."""
    import tensorflow as tf

    def parse(records):
        x = parse_images(records)
        return (x, x) if pairs else x

    dataset = tf.data.TFRecordDataset(paths * passes, num_parallel_reads=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).map(parse, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _records(paths: list[str]):
    import tensorflow as tf

    for path in paths:
        yield from tf.data.TFRecordDataset(path).as_numpy_iterator()


def _images(records: list[bytes]) -> np.ndarray:
    return parse_images(records).numpy()


def generator(paths: list[str], batch_size: int):
    """The same records as `(x, x)` batches from a Python generator (one pass)."""
    batch = []
    for record in _records(paths):
        batch.append(record)
        if len(batch) == batch_size:
            x = _images(batch)
            yield x, x
            batch = []
    if batch:
        x = _images(batch)
        yield x, x


def py_dataset(paths: list[str], batch_size: int):
    """The same records as a `keras.utils.PyDataset` of `(x, x)` batches (the record list held, not the images)."""
    import keras

    records = list(_records(paths))

    class Records(keras.utils.PyDataset):
        def __len__(self):
            return -(-len(records) // batch_size)

        def __getitem__(self, i):
            x = _images(records[i * batch_size : (i + 1) * batch_size])
            return x, x

    return Records()


def contenders(paths: list[str], samples: int, batch_size: int, x: np.ndarray | None = None) -> dict:
    """name -> one epoch of training, for one batch size (generator and PyDataset at batch 256 only; `x`, the
    images the shards hold, for an in-memory pipeline)."""
    from benchmarks import baselines

    ours, theirs = baselines.tfae_autoencoder(), baselines.keras_sequential()
    jobs = {
        "tfae fit, tf.data": lambda: ours.fit(tf_dataset(paths, batch_size, pairs=False), epochs=1, verbose=0),
        "plain Keras fit, tf.data": lambda: theirs.fit(tf_dataset(paths, batch_size, pairs=True), epochs=1,
                                                       verbose=0),
    }
    if x is not None:  # the same data held in memory: what the engine costs without a parser beside it
        def in_memory(pairs):
            import tensorflow as tf

            return tf.data.Dataset.from_tensor_slices((x, x) if pairs else x).batch(batch_size)

        jobs["tfae fit, tf.data in memory"] = lambda: ours.fit(in_memory(False), epochs=1, verbose=0)
        jobs["plain Keras fit, tf.data in memory"] = lambda: theirs.fit(in_memory(True), epochs=1, verbose=0)
    if batch_size == 256:
        steps = -(-samples // batch_size)
        sequence = py_dataset(paths, batch_size)
        jobs["tfae fit, generator"] = lambda: ours.fit(generator(paths, batch_size), steps_per_epoch=steps,
                                                       epochs=1, verbose=0)
        jobs["plain Keras fit, generator"] = lambda: theirs.fit(generator(paths, batch_size), steps_per_epoch=steps,
                                                                epochs=1, verbose=0)
        jobs["tfae fit, PyDataset"] = lambda: ours.fit(sequence, epochs=1, verbose=0)
        jobs["plain Keras fit, PyDataset"] = lambda: theirs.fit(sequence, epochs=1, verbose=0)
    return jobs


def time_streaming(paths: list[str], x: np.ndarray, repeats: int) -> dict:
    result = {}
    for batch_size in (32, 256):
        speeds = interleaved(contenders(paths, len(x), batch_size, x), repeats, len(x))
        result[str(batch_size)] = {name: {"samples_per_s": statistics.median(v), "runs": v}
                                   for name, v in speeds.items()}
    return result


def peak_rss(contender: str, paths: list[str], passes: int) -> None:
    """Child process: one epoch streaming `passes` passes over the shards; prints the peak resident memory
    during `fit` and before it, in MiB."""
    from benchmarks import baselines

    model = baselines.tfae_autoencoder() if contender == "tfae" else baselines.keras_sequential()
    dataset = tf_dataset(paths, 256, pairs=contender != "tfae", passes=passes)
    _, peak, before = peak_rss_during(lambda: model.fit(dataset, epochs=1, verbose=0))
    print(json.dumps({"peak_rss_mib": peak, "before_fit_mib": before}))


def markdown(report: dict) -> str:
    rows = ["| batch | input | tfae samples/s | plain Keras samples/s | tfae / Keras |", "|---|---|---:|---:|---:|"]
    for batch_size, speeds in report["train"].items():
        for kind in ("tf.data", "tf.data in memory", "generator", "PyDataset"):
            ours, theirs = speeds.get(f"tfae fit, {kind}"), speeds.get(f"plain Keras fit, {kind}")
            if ours and theirs:
                rows.append(f"| {batch_size} | {kind} | {ours['samples_per_s']:,.0f} | {theirs['samples_per_s']:,.0f} "
                            f"| {ours['samples_per_s'] / theirs['samples_per_s']:.2f}x |")
    rows += ["", "| streamed epoch | samples | tfae peak RSS in `fit` (before) | plain Keras peak RSS in `fit` (before) |",
             "|---|---:|---:|---:|"]
    for passes, rss in report["peak_rss_mib"].items():
        cells = [f"{rss[c]['peak_rss_mib']:,.0f} MiB ({rss[c]['before_fit_mib']:,.0f})" for c in ("tfae", "keras")]
        rows.append(f"| {passes} pass(es) over the shards | {rss['samples']:,} | {cells[0]} | {cells[1]} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 samples, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rss-child", nargs=3, metavar=("CONTENDER", "SHARD_FOLDER", "PASSES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        contender, folder, passes = args.rss_child
        peak_rss(contender, sorted(str(p) for p in Path(folder).glob("*.tfrecord")), int(passes))
        return {}
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    x, _, data = load_data(10_000 if args.quick else None)
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as folder:
        paths = write_shards(x, Path(folder))
        report = {"environment": environment(), "data": f"{data}, as {SHARDS} TFRecord shards of uint8 images",
                  "train": time_streaming(paths, x, repeats), "peak_rss_mib": {}}
        for passes in (1, 5):
            report["peak_rss_mib"][str(passes)] = {
                "samples": passes * len(x),
                **{contender: child(["--rss-child", contender, folder, str(passes)], "tensorflow",
                                   "benchmarks.streaming")
                   for contender in ("tfae", "keras")},
            }
    table = markdown(report)
    print(table)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "streaming.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
