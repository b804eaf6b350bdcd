"""delta_m and the AMTL score by hand; MTLEvaluator end to end."""
import json
import math

import pytest

from mtlbox.evaluation import MTLEvaluator, amtl_score, delta_m
from mtlbox.registry import EVALUATOR

RESULTS = {'seg/mIoU': 0.55, 'seg/aAcc': 0.80, 'depth/abs_err': 0.40,
           'depth/delta1': 0.90}
BASE = {'seg/mIoU': 0.50, 'seg/aAcc': 0.80, 'depth/abs_err': 0.50}


def test_delta_m_mixed_directions_by_hand():
    # r: mIoU +0.1, aAcc 0, abs_err (lower better) -(0.4-0.5)/0.5 = +0.2
    d = delta_m(RESULTS, BASE)
    assert d['task_avg'] == pytest.approx(100 * ((0.1 + 0) / 2 + 0.2) / 2)
    assert d['metric_avg'] == pytest.approx(100 * (0.1 + 0 + 0.2) / 3)
    assert d['used'] == list(BASE)
    worse = delta_m({'depth/abs_err': 0.6}, BASE)
    assert worse['task_avg'] == pytest.approx(-20.0)


def test_amtl_score_by_hand():
    s = amtl_score(RESULTS, list(BASE))
    seg = math.sqrt(0.55 * 0.80)
    depth = 1 / 0.40
    assert s == pytest.approx(math.sqrt(seg * depth))


def test_unknown_metric_direction_is_an_error():
    with pytest.raises(KeyError, match='directions'):
        delta_m({'x/foo': 1.0}, {'x/foo': 2.0})
    d = delta_m({'x/foo': 1.0}, {'x/foo': 2.0}, {'foo': 'lower'})
    assert d['task_avg'] == pytest.approx(50.0)


def test_evaluator_adds_mtl_keys(tmp_path):
    from mmengine.evaluator import BaseMetric

    from mtlbox.registry import METRICS

    @METRICS.register_module(force=True)
    class _Fixed(BaseMetric):
        def __init__(self, values, prefix, **kw):
            super().__init__(prefix=prefix)
            self.values = values

        def process(self, data_batch, data_samples):
            self.results.append(1)

        def compute_metrics(self, results):
            return dict(self.values)

    path = tmp_path / 'base.json'
    path.write_text(json.dumps(BASE))
    evaluator = EVALUATOR.build(dict(
        type='MTLEvaluator', baselines=str(path),
        metrics=[dict(type='_Fixed', prefix='seg',
                      values={'mIoU': 0.55, 'aAcc': 0.80}),
                 dict(type='_Fixed', prefix='depth',
                      values={'abs_err': 0.40, 'delta1': 0.9})]))
    assert isinstance(evaluator, MTLEvaluator)
    evaluator.process([{}])
    out = evaluator.evaluate(1)
    assert out['mtl/delta_m'] == pytest.approx(12.5)
    assert out['mtl/delta_m_task_avg'] == pytest.approx(12.5)
    assert out['mtl/delta_m_metric_avg'] == pytest.approx(10.0)
    assert out['mtl/amtl_score'] == pytest.approx(
        math.sqrt(math.sqrt(0.44) * 2.5))
    assert evaluator.last_used['delta_m'] == list(BASE)
    with pytest.raises(FileNotFoundError, match='--out'):
        MTLEvaluator(metrics=[], baselines=str(tmp_path / 'missing.json'))


def test_config_check_accepts_mtl_evaluator():
    from mmengine.config import Config

    from mtlbox.utils import check_config_types
    cfg = Config(dict(val_evaluator=dict(
        type='MTLEvaluator', metrics=[dict(type='VOCMetric')],
        baselines={'det/mAP': 0.5})))
    check_config_types(cfg)
    cfg.val_evaluator.metrics[0].type = 'VOCMetrc'
    with pytest.raises(KeyError, match='VOCMetric'):
        check_config_types(cfg)
