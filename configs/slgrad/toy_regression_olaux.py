# OL-AUX on toy regression: main weight 1, auxiliary weights learned online
# from <g_main, g_aux> every 2 steps.
_base_ = ['./toy_regression_ew.py']
model = dict(
    balancer=dict(type='OLAUX', main_task={{_base_.main_task}},
                  update_every=2))
