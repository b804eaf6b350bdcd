# GeMTL (seed experiment 000) on Office-Home: generalized mean of the task
# losses ((1/T) sum L_t^p)^(1/p), p rising linearly from -0.5 by
# 1 / total_iters per iteration. total_iters='auto' is the run's length,
# set by BalancerHook from the train loop (100 epochs x 147 iterations with
# LibMTL's Office-Home train list, 9,353 images, at batch 64).
_base_ = ['./ew_resnet18.py']
model = dict(
    balancer=dict(type='GeMTL', p_start=-0.5, p_end=0.5, total_iters='auto'))
