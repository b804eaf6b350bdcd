from .balanced_bce_loss import BalancedBCELoss
from .ciou_loss import CIoULoss, ciou_loss
from .cross_entropy_loss import CrossEntropyLoss
from .depth_l1_loss import DepthL1Loss
from .iou_aware_focal_loss import IoUAwareFocalLoss, iou_aware_focal_loss
from .normal_cosine_loss import NormalCosineLoss
from .normal_l1_loss import NormalL1Loss
from .pixel_l1_loss import PixelL1Loss
from .silog_loss import SILogLoss
from .ssim_loss import SSIMLoss, gaussian_window, ssim_map
from .utils import HeadLosses, masked_mean

__all__ = ['CrossEntropyLoss', 'DepthL1Loss', 'NormalCosineLoss',
           'NormalL1Loss', 'masked_mean', 'HeadLosses', 'IoUAwareFocalLoss',
           'iou_aware_focal_loss', 'CIoULoss', 'ciou_loss', 'SILogLoss',
           'BalancedBCELoss', 'SSIMLoss', 'PixelL1Loss', 'ssim_map',
           'gaussian_window']
