"""The lecture's TensorFlow Playground screens, on our engine, and the feature-cross lessons.

The Scully deck ("Tensor Playground") shows two screens of playground.tensorflow.org:

1. epoch 0, learning rate 0.3, sigmoid, no regularisation, classification, 50 % training data,
   noise 0, batch size 10, inputs x1 and x2, 1 hidden layer of 1 neuron: test loss 0.500,
   training loss 0.499 -- an untrained tanh output sits near 0 and the labels are +-1, so
   J = (1/m) sum 1/2 (a - y)^2 ~ 1/2;
2. epoch 229, learning rate 0.1, sigmoid, 2 hidden layers (the Playground's default 4 and 2
   neurons), the rest the same: test loss 0.030, training loss 0.010.

The slides do not show which data set or which random draw, so the numbers below are ours
(circle, seed 0): the same picture, not the same digits.

Then the feature-cross lessons: with no hidden layer the network is one tanh neuron, a straight
line in (x1, x2), which can separate neither the circle nor xor (loss stays ~0.5); feeding in
the crosses x1^2, x2^2 (circle) or x1*x2 (xor) makes the boundary a line in the crossed space,
and the same single neuron solves them.

Run:  python examples/playground.py [--epochs N]     (FAST=1: 40 epochs for the lessons; the
      slide's 229 epochs take about two seconds)
Page: tinygrad-edu playground
"""

from __future__ import annotations

import argparse
import os

from tinygrad_edu.playground import Playground


def slide(title: str, pg: Playground) -> None:
    s = pg.settings()
    print(f"{title}: {s['dataset']}, features {s['features']}, hidden {s['hidden']}, {s['activation']}, "
          f"lr {s['lr']}, batch {s['batch_size']}")
    print(f"    epoch {pg.epoch:03d}   test loss {pg.test_loss:.3f}   training loss {pg.train_loss:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="The deck's Playground screens and the feature-cross lessons.")
    parser.add_argument("--epochs", type=int, default=40 if os.environ.get("FAST") else 100,
                        help="epochs for the feature-cross lessons")
    args = parser.parse_args()

    common = dict(dataset="circle", features=["x1", "x2"], batch_size=10, noise=0.0, train_ratio=0.5,
                  regularization=None, reg_rate=0.0, problem="classification", seed=0)
    first = Playground(**common, hidden=[1], activation="sigmoid", lr=0.3)
    slide("Slide 1 (slide: test 0.500, training 0.499)", first)
    assert abs(first.train_loss - 0.5) < 0.06 and abs(first.test_loss - 0.5) < 0.06

    second = Playground(**common, hidden=[4, 2], activation="sigmoid", lr=0.1).step(229)
    slide("Slide 2 (slide: test 0.030, training 0.010)", second)
    assert second.train_loss < 0.05 and second.test_loss < 0.05

    print(f"\nFeature crosses, no hidden layer, tanh, lr 0.03, {args.epochs} epochs:")
    lessons = [("circle", ["x1", "x2"]), ("circle", ["x1^2", "x2^2"]), ("xor", ["x1", "x2"]), ("xor", ["x1*x2"])]
    losses = {}
    for dataset, features in lessons:
        pg = Playground(dataset, features, [], "tanh", lr=0.03).step(args.epochs)
        losses[dataset, tuple(features)] = pg.test_loss
        print(f"    {dataset:6s} {' + '.join(features):12s} test loss {pg.test_loss:.3f}   "
              f"training loss {pg.train_loss:.3f}")
    assert losses["circle", ("x1", "x2")] > 0.4 and losses["xor", ("x1", "x2")] > 0.4  # a line cannot
    assert losses["circle", ("x1^2", "x2^2")] < 0.05 and losses["xor", ("x1*x2",)] < 0.05  # a crossed line can
    print("\nA line in (x1, x2) cannot split a disc or xor; a line in (x1^2, x2^2) or in x1*x2 can.")


if __name__ == "__main__":
    main()
