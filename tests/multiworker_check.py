"""One worker of a multi-worker job, or the single process it must equal (KERAS_BACKEND=jax).

`python -m tests.multiworker_check OUT single` trains alone on global batches;
`python -m tests.multiworker_check OUT worker INDEX COUNT PORT` trains as worker
INDEX of COUNT through `tfae.distribute`. Each writes OUT/NAME.npz with the final
weights, the history and the sample weights, and the chief the model.
Run by tests/test_distributed.py. CHECK_BACKUP names the backup folder (default: one per
process, OUT/backup-NAME); CHECK_CRASH_AT=E makes the process stop as if killed when epoch E
begins (exit status 3), for a resume to follow.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfae  # noqa: E402

out, mode = sys.argv[1], sys.argv[2]
GLOBAL_BATCH, EPOCHS = 64, 2
if mode == "worker":
    index, count, port = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    tfae.distribute.multiworker(coordinator=f"127.0.0.1:{port}", num_workers=count, worker_index=index)
    name = f"worker{index}"
else:
    index, count, name = 0, 1, "single"

(x_train, _), (x_test, _) = tfae.datasets.load_mnist_sample()
x = x_train[:544]  # 8 full global batches and a short one of 32
keras.utils.set_random_seed(0)
ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(32,))
ae.compile()
share = tfae.distribute.worker_share(x, global_batch_size=GLOBAL_BATCH, num_workers=count, worker_index=index)
backup = tfae.callbacks.BackupAndRestore(os.environ.get("CHECK_BACKUP") or os.path.join(out, f"backup-{name}"),
                                         delete_checkpoint=False)
callbacks = [backup]
if os.environ.get("CHECK_CRASH_AT"):
    crash_at = int(os.environ["CHECK_CRASH_AT"])

    def crash(epoch, logs):
        if epoch == crash_at:
            os._exit(3)  # as a kill: no on_train_end, nothing flushed

    callbacks.append(keras.callbacks.LambdaCallback(on_epoch_begin=crash))
history = ae.fit(share, batch_size=GLOBAL_BATCH // count, epochs=EPOCHS, shuffle=False, verbose=0,
                 callbacks=callbacks)
weights = {f"w{i}": np.asarray(w) for i, w in enumerate(ae.get_weights())}
np.savez(os.path.join(out, f"{name}.npz"), loss=np.array(history.history["loss"]), **weights)
print(f"OK {name} chief={tfae.distribute.is_chief()}", flush=True)
