"""Image mode: MNIST / Fashion-MNIST / CIFAR-10 readers, the paper's image models, PNG grids and
the sliced Wasserstein distance (``textgan train --mode image --dataset ...``)."""
