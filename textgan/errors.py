"""User-facing errors.

Every problem a user can fix (bad input, missing corpus, corrupt checkpoint, ...) is raised as a
:class:`TextganError` whose message is one line saying what is wrong and what to do. The CLI prints
that line to stderr and exits non-zero; anything else is a bug and keeps its traceback.
"""


class TextganError(Exception):
    """A problem the user can act on; ``str(err)`` is a one-line message."""


class CorpusError(TextganError):
    """A corpus is missing, empty, unreadable or malformed."""


class CheckpointError(TextganError):
    """A checkpoint is missing, corrupt, unsafe, or does not match the run's config."""


class ConfigError(TextganError):
    """A configuration value or combination is invalid."""


class DivergenceError(TextganError):
    """Training produced NaN or Inf; the last good checkpoint is kept."""


class DownloadError(CorpusError):
    """A download failed, or the file does not match its published size or checksum."""
