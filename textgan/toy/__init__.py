"""Toy mode: the paper's 2-D distributions and MLPs, with value-surface plots for Figure 1
(``textgan train --mode toy --dataset 8gaussians|25gaussians|swissroll``)."""
