"""The plain WGAN-GP step `textgan bench` times as its yardstick, run on its own.

The implementation is :mod:`textgan.bench_reference` (inside the package, so an installed
textgan has it too); this script only starts it:

    python benchmarks/reference_wgan_gp.py --dim 128 --critic-iters 10 --repeats 3
"""

from textgan.bench_reference import main

if __name__ == "__main__":
    main()
