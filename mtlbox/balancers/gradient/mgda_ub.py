"""MGDA-UB: MGDA on gradients of the shared representation."""
from mtlbox.registry import BALANCERS
from .mgda import MGDA


@BALANCERS.register_module()
class MGDAUB(MGDA):
    """MGDA-UB (Sener & Koltun, NeurIPS 2018): the min-norm weights are
    found on the per-task gradients of the shared feature maps Z
    (``needs='features'``; G [T, F] with F = number of feature values), an
    upper bound of the parameter-space problem that needs only one backward
    through the trunk. The combined feature gradient ``sum_t a_t grad_Z L_t``
    is back-propagated once through the shared trunk. Same options as
    :class:`MGDA`; registered as ``MGDAUB`` and ``MGDA-UB``. Needs an
    architecture without shared parameters (HPS).

    Shapes: G [T, F] (feature gradients), losses [T] -> d [F].
    """

    needs = 'features'


BALANCERS.register_module(name='MGDA-UB', module=MGDAUB)
