# NoSquadNet ablation of SquadNet-base: blocks over all channels, no task
# groups, no residual; same widths, so the heads still read 3 of 4 groups.
_base_ = './squadnet_base.py'
model = dict(backbone=dict(type='NoSquadNet'))
