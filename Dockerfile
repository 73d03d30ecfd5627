# textgan on a CUDA runtime: the PyTorch image brings CUDA, cuDNN and a matching torch build.
# Build: docker build -t textgan .
# Run:   docker run --gpus all -v "$PWD/runs:/work/runs" -v "$PWD/data:/work/data" textgan train --corpus billion_word
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

WORKDIR /opt/textgan
COPY pyproject.toml README.md ./
COPY textgan ./textgan
COPY cli ./cli
# (cli/ installs as the subpackage textgan.cli: see [tool.hatch.build.targets.wheel] in pyproject.toml)
# torch is already in the image (and satisfies torch>=2.1): pip keeps it.
RUN pip install --no-cache-dir '.[plots]'

WORKDIR /work
ENTRYPOINT ["textgan"]
CMD ["--help"]
