# Cityscapes, MTAN protocol, MTAN SegNet: FAMO, gamma (the logits' weight
# decay) 0.01 as FAMO's experiments/cityscapes/run.sh.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='FAMO', weight_decay=0.01))
