# SquadNet-small: as squadnet_base.py with depths 4/4/4.
_base_ = './squadnet_base.py'
model = dict(backbone=dict(depths=(4, 4, 4)))
