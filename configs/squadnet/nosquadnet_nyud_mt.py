# NoSquadNet ablation (one block over all channels, no residual) on NYUD-MT
# seg + depth; everything else as squadnet_base_nyud_mt.py.
_base_ = ['./squadnet_base_nyud_mt.py']
model = dict(backbone=dict(type='NoSquadNet'))
