# NYUv2, MTAN protocol, MTAN SegNet: uncertainty weighting (Kendall et
# al. 2018), log-variances starting at -0.5 as the MTAN reference.
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='UW', init_log_var=-0.5))
