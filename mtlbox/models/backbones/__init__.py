from .base_backbone import StagedBackbone
from .efficientnet_v2 import EfficientNetV2
from .image_input import ImageInput
from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3
from .pretrained import PretrainedWeightsError, load_pretrained
from .resnet import ResNet
from .squadnet import NoSquadNet, SquadNet
from .torchvision_features import TorchvisionFeatures

__all__ = [
    'StagedBackbone', 'ImageInput', 'PretrainedWeightsError',
    'load_pretrained', 'ResNet', 'SquadNet', 'NoSquadNet', 'EfficientNetV2',
    'MobileNetV2', 'MobileNetV3', 'TorchvisionFeatures'
]
from .mlp import MLP  # noqa: E402
from .small_convnet import SmallConvNet  # noqa: E402

__all__ += ['MLP', 'SmallConvNet']
