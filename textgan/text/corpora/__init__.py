"""Corpus sources: raw text lines for the preparation step.

``open_source(corpus, corpus_path, ...)`` picks one:

- ``synthetic`` (default when nothing is given): sentences of a known English-like grammar,
  generated on the fly, with an exact oracle (:func:`grammar_accepts`, :func:`oracle_scores`);
- ``billion_word``: the One Billion Word benchmark tarball, downloaded once and read in place;
- ``files`` (or no name, with ``corpus_path``): local text/gzip files, a directory or a glob;
- ``hf:NAME[/CONFIG][:SPLIT]``: a Hugging Face dataset, streamed.

Every source has a filesystem-safe ``name`` (``billion_word``, ``synthetic`` or
``synthetic-s<seed>``, ``files-<8 hex>``, ``hf-<name>[-<8 hex>]``), lazy ``train_lines()`` /
``valid_lines()`` iterators and ``describe()``.
"""

from textgan.text.corpora.base import Source, open_source
from textgan.text.corpora.billion_word import BillionWordSource
from textgan.text.corpora.files import FilesSource
from textgan.text.corpora.hf import HFSource
from textgan.text.corpora.synthetic import (
    GRAMMAR_VERSION,
    SyntheticSource,
    grammar_accepts,
    oracle_scores,
)

__all__ = [
    "GRAMMAR_VERSION",
    "BillionWordSource",
    "FilesSource",
    "HFSource",
    "Source",
    "SyntheticSource",
    "grammar_accepts",
    "open_source",
    "oracle_scores",
]
