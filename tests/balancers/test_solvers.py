import pytest
import torch

from mtlbox.balancers import project_simplex
from mtlbox.balancers.gradient.solvers import min_norm_two


def test_project_simplex():
    assert project_simplex(torch.tensor([0.45, 0.3])).tolist() == \
        pytest.approx([0.575, 0.425])
    assert project_simplex(torch.tensor([2.0, 0.0, -1.0])).tolist() == \
        pytest.approx([1.0, 0.0, 0.0])
    assert project_simplex(torch.tensor([0.2, 0.3, 0.5])).tolist() == \
        pytest.approx([0.2, 0.3, 0.5])


def test_min_norm_two_segment():
    # |g1|^2 = 1, |g2|^2 = 4, g1.g2 = 0 -> gamma = 4 / 5
    assert min_norm_two(torch.tensor(1.0), torch.tensor(0.0),
                        torch.tensor(4.0)).item() == pytest.approx(0.8)
    # equal vectors: any point; 0.5 by convention
    assert min_norm_two(torch.tensor(1.0), torch.tensor(1.0),
                        torch.tensor(1.0)).item() == 0.5
