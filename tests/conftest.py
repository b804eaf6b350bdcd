import pytest
import torch

# one thread: tests are small, and CI machines are shared
torch.set_num_threads(1)


@pytest.fixture(scope='session', autouse=True)
def _register_mtlbox():
    import mtlbox
    mtlbox.register_all_modules(init_default_scope=True)
