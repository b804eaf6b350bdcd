# GeMTL (seed experiment 000) on Office-Home: generalized mean of the task
# losses ((1/T) sum L_t^p)^(1/p), p rising linearly from -0.5 by
# 1 / total_iters per iteration. total_iters = 100 epochs x 147 iterations
# (LibMTL's Office-Home train list, 9,353 images, at batch 64); set it to
# max_epochs x iterations per epoch of your lists.
_base_ = ['./ew_resnet18.py']
model = dict(
    balancer=dict(type='GeMTL', p_start=-0.5, p_end=0.5, total_iters=14700))
