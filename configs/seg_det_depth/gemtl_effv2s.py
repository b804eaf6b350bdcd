# VOC + NYU partially annotated, VMM model: GeMTL (generalized mean) instead of AMTL
# (a compared method of the AMTL paper). Everything else as amtl_effv2s.py.
_base_ = ['./amtl_effv2s.py']
# p rises from -0.5 by (p_end - p_start) / total_iters per iteration;
# 'auto': total_iters is the run's max iterations (BalancerHook sets it).
model = dict(balancer=dict(_delete_=True, type='GeMTL', p_start=-0.5, p_end=0.5,
                           total_iters='auto'))
