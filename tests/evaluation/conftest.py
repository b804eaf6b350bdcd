import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The test machine's cores are shared: a second intra-op thread mostly
    spins (a 30x slowdown was measured under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
