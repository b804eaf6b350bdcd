from .aligned_mtl import AlignedMTL, aligned_weights
from .cagrad import CAGrad, cagrad, cagrad_coefficients, cagrad_weights
from .config_grad import ConFIG, config_weights
from .db_mtl import DBMTL, max_norm_balance
from .dualproj import DualProj, dualproj_weights
from .excess_mtl import ExcessMTL, excess_risk
from .fairgrad import FairGrad, fairgrad_weights
from .gcosim import Gcosim, gcosim, gcosim_weights
from .graddrop import GradDrop, graddrop
from .gradnorm import GradNorm, gradnorm_loss
from .gradvac import GradVac, gradvac, gradvac_weights
from .imtl import IMTL
from .imtl_g import IMTLG, imtl_g_weights, imtl_g_weights_from_gram
from .mgda import MGDA, mgda, mgda_weights, normalization_scales
from .mgda_ub import MGDAUB
from .moco import MoCo
from .modo import MoDo, modo_step
from .nash_mtl import NashMTL, nash_weights
from .ol_aux import OLAUX
from .pcgrad import PCGrad, pcgrad, pcgrad_weights
from .sdmgrad import SDMGrad, sdmgrad_weights
from .solvers import box_qp, min_norm_weights, project_simplex
from .upgrad import UPGrad, upgrad_weights

__all__ = [
    'AlignedMTL', 'CAGrad', 'DBMTL', 'Gcosim', 'GradDrop', 'GradNorm',
    'GradVac', 'IMTL', 'IMTLG', 'MGDA', 'MGDAUB', 'MoCo', 'NashMTL', 'OLAUX',
    'PCGrad', 'UPGrad', 'aligned_weights', 'box_qp', 'cagrad',
    'cagrad_coefficients', 'cagrad_weights', 'gcosim', 'gcosim_weights',
    'graddrop', 'gradnorm_loss', 'gradvac', 'gradvac_weights',
    'imtl_g_weights', 'imtl_g_weights_from_gram', 'max_norm_balance', 'mgda',
    'mgda_weights', 'min_norm_weights', 'nash_weights',
    'normalization_scales', 'pcgrad', 'pcgrad_weights', 'project_simplex',
    'upgrad_weights'
]
