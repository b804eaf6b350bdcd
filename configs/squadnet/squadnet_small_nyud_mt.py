# SquadNet-small (depths 4/4/4) on NYUD-MT seg + depth.
_base_ = ['./squadnet_base_nyud_mt.py']
model = dict(backbone=dict(depths=(4, 4, 4)))
