"""One process of a distributed keras-tuner search (chief or worker, by KERASTUNER_TUNER_ID).

Each trial appends the id of the tuner that ran it to `ran_by.txt`, so the test
can check that every worker took part.
"""

import os
import sys
from pathlib import Path

import keras_tuner as kt

import tfae
from tfae import tuning


class RecordingHyperModel(tuning.AutoEncoderHyperModel):
    def fit(self, hp, model, *args, **kwargs):
        with open(Path(sys.argv[1]) / "ran_by.txt", "a") as log:
            log.write(os.environ["KERASTUNER_TUNER_ID"] + "\n")
        return super().fit(hp, model, *args, **kwargs)


def main():
    out = Path(sys.argv[1])
    (x_train, _), (x_val, _) = tfae.datasets.load_mnist_sample()
    hypermodel = RecordingHyperModel(input_shape=(784,), latent_dims=(4, 8), max_hidden_layers=1, hidden_units=(8, 16))
    tuner = kt.RandomSearch(hypermodel, objective="val_loss", max_trials=4, directory=str(out),
                            project_name="distributed", seed=0)
    tuner.search(x_train[:128], validation_data=x_val[:32], epochs=1, batch_size=32, verbose=0)
    if "chief" in os.environ["KERASTUNER_TUNER_ID"]:
        statuses = sorted(t.status for t in tuner.oracle.trials.values())
        print("CHIEF TRIALS", " ".join(statuses), flush=True)


if __name__ == "__main__":
    main()
