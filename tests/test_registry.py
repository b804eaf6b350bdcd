import pytest
from mmengine.config import Config

from mtlbox.registry import BALANCERS, MODELS, UnknownTypeError
from mtlbox.utils import check_config_types


def test_unknown_type_names_registry_and_closest():
    with pytest.raises(UnknownTypeError) as err:
        MODELS.build(dict(type='SegHaed', in_channels=[8], num_classes=2))
    msg = str(err.value)
    assert "'SegHaed'" in msg
    assert 'mtlbox::model registry' in msg
    assert "'SegHead'" in msg


def test_unknown_balancer_suggests_pcgrad():
    with pytest.raises(UnknownTypeError) as err:
        BALANCERS.build(dict(type='PCGard', tasks=['a', 'b']))
    assert 'balancer registry' in str(err.value)
    assert "'PCGrad'" in str(err.value)


def test_known_types_build():
    balancer = BALANCERS.build(dict(type='EW', tasks=['a', 'b']))
    assert balancer.tasks == ['a', 'b']


def test_config_check_names_the_key():
    cfg = Config.fromfile('configs/synth/hps_r18_ew_synth.py')
    cfg.model.heads.depth.type = 'DepthHaed'
    with pytest.raises(UnknownTypeError) as err:
        check_config_types(cfg)
    assert 'model.heads.depth.type' in str(err.value)
    assert "'DepthHead'" in str(err.value)


def test_config_check_pipeline_and_balancer():
    cfg = Config.fromfile('configs/synth/hps_r18_ew_synth.py')
    check_config_types(cfg)  # the shipped demo config is valid
    cfg.train_dataloader.dataset.pipeline[0].type = 'RandomFlipp'
    with pytest.raises(UnknownTypeError) as err:
        check_config_types(cfg)
    assert 'train_dataloader.dataset.pipeline[0].type' in str(err.value)
    assert 'transform registry' in str(err.value)


def test_metric_for_unknown_task_fails_with_valid_tasks():
    from mtlbox.utils import check_config_tasks
    cfg = Config.fromfile('configs/synth/hps_r18_ew_synth.py')
    cfg.val_evaluator[1].task = 'dpth'
    with pytest.raises(KeyError) as err:
        check_config_tasks(cfg)
    msg = str(err.value)
    assert 'val_evaluator[1]' in msg and "'dpth'" in msg
    assert "['seg', 'depth', 'normal']" in msg


def test_head_without_metric_fails():
    from mtlbox.utils import check_config_tasks
    cfg = Config.fromfile('configs/synth/hps_r18_ew_synth.py')
    check_config_tasks(cfg)
    cfg.test_evaluator = cfg.test_evaluator[:2]  # drop NormalMetric
    with pytest.raises(KeyError, match=r"test_evaluator has no metric for "
                       r"head\(s\) \['normal'\]"):
        check_config_tasks(cfg)


def test_balancer_tasks_must_match_heads():
    from mtlbox.utils import check_config_tasks
    cfg = Config.fromfile('configs/synth/hps_r18_ew_synth.py')
    cfg.model.balancer.tasks = ['seg', 'depth']
    with pytest.raises(KeyError, match='model.balancer.tasks'):
        check_config_tasks(cfg)
