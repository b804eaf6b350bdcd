"""A task head defined outside mtlbox."""
import torch
import torch.nn.functional as F

from mtlbox.models.heads import DepthHead
from mtlbox.models.heads.base_dense_head import stack_field
from mtlbox.registry import MODELS


@MODELS.register_module()
class SobelDepthHead(DepthHead):
    """Depth head whose loss adds an L1 term on horizontal/vertical depth
    gradients (Sobel), which sharpens object boundaries.

    Args:
        gradient_weight: weight of the gradient term.
    """

    def __init__(self, *args, gradient_weight: float = 0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.gradient_weight = gradient_weight
        kernel = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
        self.register_buffer('sobel', torch.stack([kernel, kernel.t()])[:,
                                                                        None])

    def loss(self, feats, data_samples, inputs=None):
        # one forward: the depth L1 term and the gradient term share it
        out, idx = self.forward_train(feats, data_samples, inputs)
        if not idx:
            return {}
        target = self.target(stack_field(data_samples, self.gt_field, idx))
        pred = self.loss_inputs(out[idx])
        losses = self._losses(pred, target,
                              **self.loss_extras(data_samples, idx, out))
        target = target.to(pred)
        valid = F.conv2d((target > 0).float(), torch.ones_like(
            self.sobel[:1]), padding=1) == 9  # whole 3x3 window valid
        diff = (F.conv2d(pred, self.sobel, padding=1) -
                F.conv2d(target, self.sobel, padding=1)).abs()
        term = (diff * valid).sum() / (2 * valid.sum()).clamp(min=1)
        losses['loss_grad'] = self.gradient_weight * term
        return losses
