from .balancer_hook import BalancerHook

__all__ = ['BalancerHook']
