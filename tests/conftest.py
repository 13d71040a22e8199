import os

import pytest

# The project is installed editable into .venv by the setup scripts; nothing here edits the import path.
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(autouse=True)
def _seed():
    import torch

    torch.manual_seed(0)
    yield
