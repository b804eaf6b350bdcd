# CPU twin of configs/nyuv2/gemtl_deeplab_r50.py: seg + depth + normals on
# SynthScenes with GeMTL, p rising from -0.5 to 0.5 over the run's
# iterations (total_iters='auto': taken from the Runner's train loop).
_base_ = ['./hps_r18_ew_synth.py']
model = dict(balancer=dict(_delete_=True, type='GeMTL', p_start=-0.5,
                           p_end=0.5, total_iters='auto'))
