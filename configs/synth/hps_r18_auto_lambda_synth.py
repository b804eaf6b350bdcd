# The synth demo (./hps_r18_ew_synth.py) with Auto-Lambda: task weights
# meta-learned on a one-step look-ahead. As the authors, the held-out
# batches come from a second shuffled loader over the *training* set. With
# AdamW the virtual step is lr * grad (see docs/balancers.md). About 4x the
# time of the EW demo per step.
_base_ = ['./hps_r18_ew_synth.py']
model = dict(
    balancer=dict(
        _delete_=True,
        type='AutoLambda',
        init=0.1,
        lr=1e-4,
        val_dataloader=dict(
            batch_size={{_base_.train_dataloader.batch_size}},
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True, seed=1),
            dataset={{_base_.train_dataloader.dataset}})))
