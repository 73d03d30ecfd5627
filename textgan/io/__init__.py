"""File infrastructure shared by every layer: nothing here knows about corpora, images or models.

- :mod:`textgan.io.atomic`: write a file so that it is either old or complete, never torn;
- :mod:`textgan.io.download`: one downloader (HTTP Range resume, any hashlib checksum, progress);
- :mod:`textgan.io.archive`: members of a .tar.gz read in a chosen order without unpacking;
- :mod:`textgan.io.files`: file digests and the gzip magic check;
- :mod:`textgan.io.progress`: the progress-callback type.

Locking uses the ``filelock`` package directly (see :func:`textgan.text.prepare.prepare_corpus`).
"""
