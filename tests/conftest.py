"""Suite-wide settings.

Tests use tiny models, for which a second intra-op thread only adds synchronisation; on a busy
machine it made steps tens of times slower. One thread here and in every process tests start.
"""

import os

import torch

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
torch.set_num_threads(1)
