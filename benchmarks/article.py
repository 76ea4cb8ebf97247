"""The article's TF1 autoencoder, written the way the article writes it.

A baseline, not library code: a placeholder, four Variables, a summed sigmoid
cross-entropy, RMSProp and a Python loop that feeds one numpy batch per
`session.run`. The benchmarks time it against `tfae.GraphAutoEncoder.fit`, and
the tests check that both compute the same costs from the same weights.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1


class ArticleAutoEncoder:
    def __init__(self, D: int = 784, d: int = 128, learning_rate: float = 0.005, seed: int | None = None):
        self.graph = tf.Graph()
        with self.graph.as_default():
            if seed is not None:
                v1.set_random_seed(seed)
            self.X = v1.placeholder(tf.float32, shape=[None, D])
            self.W1 = v1.Variable(v1.random_normal(shape=[D, d]))
            self.b1 = v1.Variable(tf.zeros(shape=[d]))
            self.W2 = v1.Variable(v1.random_normal(shape=[d, D]))
            self.b2 = v1.Variable(tf.zeros(shape=[D]))
            self.Z = tf.nn.relu(tf.matmul(self.X, self.W1) + self.b1)
            self.logits = tf.matmul(self.Z, self.W2) + self.b2
            self.X_hat = tf.nn.sigmoid(self.logits)
            self.cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=self.X, logits=self.logits))
            self.train_op = v1.train.RMSPropOptimizer(learning_rate=learning_rate).minimize(self.cost)
            init = v1.global_variables_initializer()
        self.session = v1.Session(graph=self.graph)
        self.session.run(init)

    def set_weights(self, weights):
        with self.graph.as_default():
            for variable, value in zip((self.W1, self.b1, self.W2, self.b2), weights):
                self.session.run(variable.assign(value))

    def get_weights(self):
        return self.session.run([self.W1, self.b1, self.W2, self.b2])

    def train(self, x: np.ndarray, *, epochs: int, batch_size: int, shuffle: bool = True, seed: int = 0):
        """The article's loop: one feed_dict per batch. Returns the per-step costs."""
        rng = np.random.default_rng(seed)
        costs = []
        for _ in range(epochs):
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            for start in range(0, len(x), batch_size):
                batch = x[order[start : start + batch_size]]
                _, cost = self.session.run([self.train_op, self.cost], feed_dict={self.X: batch})
                costs.append(cost)
        return costs

    def close(self):
        self.session.close()
