# CPU demo (about 20 s): SLGrad on scikit-learn digits pairs, main task
# 'left', auxiliary 'right'; the held-out batches are pairs 1200..1436 of
# the train split (slgrad_val_dataloader of ./digits_gemtl.py).
_base_ = ['./digits_gemtl.py']
model = dict(
    balancer=dict(
        _delete_=True,
        type='SLGrad',
        main_task={{_base_.main_task}},
        val_dataloader={{_base_.slgrad_val_dataloader}}))
