# SLGrad on noisy CIFAR-10: sample-level weights from the alignment of each
# sample's task-loss gradient with the main task's gradient on held-out
# batches (slgrad_val_dataloader of ./cifar10_noise_ew.py).
_base_ = ['./cifar10_noise_ew.py']
model = dict(
    balancer=dict(
        type='SLGrad',
        main_task={{_base_.main_task}},
        val_dataloader={{_base_.slgrad_val_dataloader}}))
