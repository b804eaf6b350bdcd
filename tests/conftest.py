import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope='session', autouse=True)
def _register_mtlbox():
    import mtlbox
    mtlbox.register_all_modules(init_default_scope=True)
