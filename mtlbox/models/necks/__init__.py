from .aspp import ASPP
from .fpn import FPN
from .triv2_bifpn import MBConv, TRIV2BiFPN

__all__ = ['ASPP', 'FPN', 'MBConv', 'TRIV2BiFPN']
