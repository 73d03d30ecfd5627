"""Suite-wide settings.

Tests use tiny models, for which a second intra-op thread only adds synchronisation; on a busy
machine it made steps tens of times slower. One thread here and in every process tests start.
"""

import os

import torch

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
torch.set_num_threads(1)


def pytest_collection_modifyitems(items) -> None:
    """The files with slow tests first, the README's commands (the longest by far) before all:
    pytest-xdist queues the tests in this order, so the longest start first and the other
    workers take the rest around them. Within a file the order is unchanged."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item) -> int:
        return 0 if item.path.name == "test_readme_commands.py" else 1 if item.path in slow else 2

    items.sort(key=rank)
