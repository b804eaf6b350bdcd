from .anchor_generator import AnchorGenerator, grid_anchors
from .atss_assigner import ATSSAssigner, atss_assign
from .ssd_box_coder import SSDBoxCoder, decode_ssd, encode_ssd

__all__ = ['AnchorGenerator', 'grid_anchors', 'ATSSAssigner', 'atss_assign',
           'SSDBoxCoder', 'encode_ssd', 'decode_ssd']
