"""Studies: many runs of one experiment, scheduled and recorded by Optuna (see
:mod:`textgan.study.engine`), summarised in the paper's layout (:mod:`textgan.study.outcomes`)."""
