"""Multi-task scores: delta_m against single-task baselines and AMTL's
geometric model-selection score."""
import math
from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence

from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger

from mtlbox.registry import EVALUATOR
from .baselines import load_baselines  # noqa: F401 (re-exported)

#: metric name (the part after the last "/") -> True if higher is better
METRIC_DIRECTIONS: Dict[str, bool] = {
    # segmentation / parts
    'mIoU': True, 'mAcc': True, 'aAcc': True,
    # depth
    'abs_err': False, 'abs_rel': False, 'sq_rel': False, 'rmse': False,
    'rmse_log': False, 'log10': False, 'silog': False,
    'delta1': True, 'delta2': True, 'delta3': True,
    # normals (angles in degrees; the thresholds are fractions within)
    'mean': False, 'median': False,
    '11.25': True, '22.5': True, '30': True,
    # detection
    'mAP': True, 'AP50': True, 'AP75': True, 'coco_AP': True,
    'coco_AP50': True, 'coco_AP75': True, 'coco_APs': True,
    'coco_APm': True, 'coco_APl': True,
    # enhancement
    'psnr': True, 'ssim': True, 'uiqm': True, 'uciqe': True,
    'uiqm_funiegan': True, 'uciqe_matlab': True, 'mae': False, 'mse': False,
    # classification
    'top1': True, 'mean_class_acc': True, 'mAP_multilabel': True,
    'f1': True,
    # saliency / edges
    'maxF': True, 'maxIoU': True, 'MAE': False, 'ODS': True, 'OIS': True,
}


def higher_is_better(key: str, overrides: Optional[Dict[str, str]] = None
                     ) -> bool:
    """Direction of a metric key ``'task/name'``: ``overrides`` by full key
    or name (``'higher'``/``'lower'``) first, then :data:`METRIC_DIRECTIONS`
    by name. Unknown names raise (an unsigned metric would be wrong
    silently)."""
    name = key.rpartition('/')[2]
    for k in (key, name):
        if overrides and k in overrides:
            value = overrides[k]
            if value not in ('higher', 'lower'):
                raise ValueError(f'directions[{k!r}]={value!r}: use '
                                 "'higher' or 'lower'")
            return value == 'higher'
    if name in METRIC_DIRECTIONS:
        return METRIC_DIRECTIONS[name]
    raise KeyError(f'no direction known for metric {key!r}; add it to '
                   "MTLEvaluator(directions={..: 'higher' | 'lower'})")


def _group_by_task(keys: Iterable[str]) -> 'OrderedDict[str, List[str]]':
    groups: 'OrderedDict[str, List[str]]' = OrderedDict()
    for key in keys:
        groups.setdefault(key.rpartition('/')[0], []).append(key)
    return groups


def delta_m(results: Dict[str, float], baselines: Dict[str, float],
            directions: Optional[Dict[str, str]] = None) -> Dict[str, float]:
    """Mean signed relative change against single-task baselines, in %.

    For metric ``m`` of task ``t``: ``r_m = s_m (M_mt - M_st) / M_st`` with
    ``s_m = +1`` if higher is better, ``-1`` if lower is better
    (Maninis et al. CVPR 2019; Vandenhende et al. TPAMI 2021).

    - ``task_avg`` = ``100 / T * sum_t (1 / M_t) sum_{m in t} r_m`` (each
      task weighs equally; the task is the key's part before the last "/"),
    - ``metric_avg`` = ``100 / M * sum_m r_m`` (each metric weighs equally,
      as Nash-MTL / FAMO report),
    - ``metric_avg_lower_better`` = ``-metric_avg``: the Nash-MTL / FAMO /
      FairGrad sign convention, ``100 / M * sum_m (-1)^{h_m} (M_m - B_m) /
      B_m`` with ``h_m = 1`` when higher is better, so *lower* is better
      (their tables' "Delta m %" column).

    Only keys present in both dicts count (``used`` lists them).
    """
    used = [k for k in baselines if k in results]
    if not used:
        return dict(task_avg=float('nan'), metric_avg=float('nan'),
                    metric_avg_lower_better=float('nan'), used=[])
    rel = {}
    for key in used:
        base = float(baselines[key])
        if base == 0:
            raise ValueError(f'baseline of {key!r} is 0: delta_m divides by '
                             'it; drop the metric or give a non-zero value')
        sign = 1.0 if higher_is_better(key, directions) else -1.0
        rel[key] = sign * (float(results[key]) - base) / abs(base)
    groups = _group_by_task(used)
    task_avg = sum(sum(rel[k] for k in ks) / len(ks)
                   for ks in groups.values()) / len(groups)
    metric_avg = sum(rel.values()) / len(rel)
    return dict(task_avg=100 * task_avg, metric_avg=100 * metric_avg,
                metric_avg_lower_better=-100 * metric_avg, used=used)


def amtl_score(results: Dict[str, float], keys: Sequence[str],
               directions: Optional[Dict[str, str]] = None,
               eps: float = 1e-12) -> float:
    """AMTL model-selection score: the geometric mean over tasks of each
    task's geometric mean of its metrics, a lower-is-better metric entering
    as ``1 / value``::

        score = prod_t ( prod_{m in t} v_m^{s_m} )^{1 / (M_t T)}

    Values are clamped to ``eps`` (a zero metric gives a score near 0
    instead of an error). Metrics of different tasks are not rescaled, so
    compare scores only between models evaluated on the same metrics.
    """
    keys = [k for k in keys if k in results]
    if not keys:
        return float('nan')
    groups = _group_by_task(keys)
    log_score = 0.0
    for ks in groups.values():
        logs = []
        for k in ks:
            v = math.log(max(float(results[k]), eps))
            logs.append(v if higher_is_better(k, directions) else -v)
        log_score += sum(logs) / len(logs)
    return math.exp(log_score / len(groups))


@EVALUATOR.register_module()
class MTLEvaluator(Evaluator):
    """The per-task metrics plus multi-task scores under ``mtl/``.

    Keys added (when their inputs exist):

    - ``mtl/delta_m``: :func:`delta_m` ``task_avg`` in % (per task first,
      then over tasks), also as ``mtl/delta_m_task_avg``;
    - ``mtl/delta_m_metric_avg``: every metric weighs equally, in %;
    - ``mtl/delta_m_paper``: the same, in the Nash-MTL / FAMO sign
      convention (lower is better; ``-delta_m_metric_avg``), the number
      their tables print;
    - ``mtl/amtl_score``: :func:`amtl_score` over ``amtl_metrics``;
    - one key per entry of ``averages``: the mean of the results whose
      metric name (after the last "/") is the entry's value, e.g.
      ``averages={'mtl/mean_f1': 'f1'}`` for CelebA's 40 attributes.

    Use as ``val_evaluator = dict(type='MTLEvaluator', metrics=[...],
    baselines=dict({'seg/mIoU': 0.52, 'depth/abs_err': 0.41}))``; with
    ``default_hooks.checkpoint.save_best='mtl/delta_m'`` (rule 'greater')
    the best checkpoint is chosen by it.

    Args:
        metrics: metric configs (as ``Evaluator``).
        baselines: single-task results ``{key: value}``, a JSON path, a
            list of JSON paths or ``'published:<name>'`` (the literature's
            values, :data:`~mtlbox.evaluation.baselines.PUBLISHED_BASELINES`);
            the keys chosen for ``delta_m`` are exactly
            these (intersected with the results).
        amtl_metrics: keys of the AMTL score; default: the baseline keys.
            AMTL uses ``det/mAP``, ``seg/mIoU``, ``depth/delta1``,
            ``normal/11.25``.
        directions: ``{key or metric name: 'higher' | 'lower'}`` for
            names missing from :data:`METRIC_DIRECTIONS`.
        averages: ``{output key: metric name}`` (see above).
    """

    def __init__(self, metrics, baselines=None,
                 amtl_metrics: Optional[Sequence[str]] = None,
                 directions: Optional[Dict[str, str]] = None,
                 averages: Optional[Dict[str, str]] = None):
        super().__init__(metrics)
        self.averages = dict(averages or {})
        self.baselines = load_baselines(baselines)
        self.amtl_metrics = (list(amtl_metrics) if amtl_metrics is not None
                             else list(self.baselines))
        self.directions = dict(directions or {})
        for key in list(self.baselines) + self.amtl_metrics:
            higher_is_better(key, self.directions)  # fail early if unknown
        self.last_used: Dict[str, List[str]] = {}

    def evaluate(self, size: int) -> dict:
        metrics = super().evaluate(size)
        metrics.update(self.mtl_scores(metrics))
        return metrics

    def mtl_scores(self, metrics: Dict[str, float]) -> Dict[str, float]:
        """``mtl/*`` keys for ``metrics``; logs the metrics used."""
        out = {}
        logger = MMLogger.get_current_instance()
        if self.baselines:
            d = delta_m(metrics, self.baselines, self.directions)
            missing = [k for k in self.baselines if k not in metrics]
            if d['used']:
                out['mtl/delta_m'] = d['task_avg']
                out['mtl/delta_m_task_avg'] = d['task_avg']
                out['mtl/delta_m_metric_avg'] = d['metric_avg']
                out['mtl/delta_m_paper'] = d['metric_avg_lower_better']
            self.last_used['delta_m'] = d['used']
            logger.info(f'mtl/delta_m uses {d["used"]}' + (
                f' (baselines without results: {missing})' if missing
                else ''))
        if self.amtl_metrics:
            used = [k for k in self.amtl_metrics if k in metrics]
            if used:
                out['mtl/amtl_score'] = amtl_score(metrics, used,
                                                   self.directions)
            self.last_used['amtl_score'] = used
            logger.info(f'mtl/amtl_score uses {used}')
        for key, name in self.averages.items():
            used = [k for k in metrics if k.rpartition('/')[2] == name]
            if used:
                out[key] = sum(metrics[k] for k in used) / len(used)
            self.last_used[key] = used
        return out
