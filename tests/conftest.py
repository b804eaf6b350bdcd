import pytest
import torch

# one thread: tests are small, and CI machines are shared
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The test machine's cores are shared: a second intra-op thread mostly
    spins (a 30x slowdown was measured under load). Restored after each
    test, so a test that raises the count does not leak it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session', autouse=True)
def _register_mtlbox():
    import mtlbox
    mtlbox.register_all_modules(init_default_scope=True)
