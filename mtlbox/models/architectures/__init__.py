from .base import BaseArchitecture
from .cgc import CGC
from .columns import ColumnArchitecture
from .cross_stitch import CrossStitch
from .dselect_k import DSelectK, DSelectKGate
from .hps import HPS
from .mmoe import MMoE
from .mtan import MTAN
from .nddr import NDDR
from .ple import PLE
from .squad_split import SquadSplit

__all__ = [
    'BaseArchitecture', 'ColumnArchitecture', 'CrossStitch', 'DSelectK',
    'DSelectKGate', 'HPS', 'MMoE', 'MTAN', 'NDDR', 'CGC', 'PLE', 'SquadSplit'
]
