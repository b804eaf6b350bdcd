import pytest

from mtlbox.datasets.fixtures import write_fixture


@pytest.fixture(scope='session', autouse=True)
def _mtlbox_scope():
    """Dataset tests need only the datasets/transforms registries: set the
    default scope without importing the model side."""
    from mmengine.registry import DefaultScope

    import mtlbox.datasets  # noqa: F401 registers datasets and transforms
    if DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('mtlbox-dataset-tests', scope_name='mtlbox')


@pytest.fixture
def make(tmp_path):
    """``make('voc')`` writes the fixture layout and returns its truth."""

    def _make(name, sub=None):
        return write_fixture(name, str(tmp_path / (sub or name)))

    return _make
