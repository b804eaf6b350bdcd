"""The task-kind table: built-in kinds, registration rules."""
import numpy as np
import pytest
import torch

from mtlbox.datasets.transforms import MTLPad, PackMTLInputs
from mtlbox.structures import TASK_FIELDS, TASK_KINDS, register_task_kind
from mtlbox.structures import task_kinds


@pytest.fixture
def scratch_table(monkeypatch):
    """Registrations inside a test do not leak into the others."""
    monkeypatch.setattr(task_kinds, 'TASK_KINDS', dict(TASK_KINDS))
    monkeypatch.setattr(task_kinds, 'TASK_FIELDS', dict(TASK_FIELDS))
    yield task_kinds


def test_builtin_kinds_keep_their_fields_and_invalid_values():
    assert TASK_FIELDS['seg'] == 'gt_sem_seg'
    assert TASK_KINDS['seg'].pad_value == 255
    assert TASK_KINDS['depth'].pad_value == 0
    assert TASK_KINDS['normal'].mirror_channel == 0
    assert TASK_KINDS['det'].result_keys[:2] == ('gt_bboxes',
                                                 'gt_bboxes_labels')


def test_reregistering_the_same_kind_is_a_no_op(scratch_table):
    before = dict(scratch_table.TASK_KINDS)
    kind = scratch_table.register_task_kind(
        'seg', 'gt_sem_seg', result_key='gt_seg_map',
        path_key='seg_map_path', dtype='long', pad_value=255,
        interpolation='nearest')
    assert kind == before['seg']


@pytest.mark.parametrize('kwargs, match', [
    (dict(name='seg', gt_field='gt_other', result_key='gt_x'), 'clashes'),
    (dict(name='contour', gt_field='gt_sem_seg', result_key='gt_c'),
     'clashes'),
    (dict(name='contour', gt_field='contour', result_key='gt_c'), 'gt_'),
    (dict(name='contour', gt_field='gt_contour'), 'result_key'),
    (dict(name='contour', gt_field='gt_contour', result_key='gt_c',
          interpolation='cubic'), 'interpolation'),
])
def test_bad_registrations_say_what_is_wrong(scratch_table, kwargs, match):
    with pytest.raises((KeyError, ValueError), match=match):
        scratch_table.register_task_kind(kwargs.pop('name'),
                                         kwargs.pop('gt_field'), **kwargs)


def test_a_registered_kind_is_padded_with_its_invalid_value():
    register_task_kind('heat', 'gt_heat', result_key='gt_heat_map',
                       dtype='float', pad_value=-1.0,
                       interpolation='bilinear')
    results = dict(img=np.zeros((5, 7, 3), np.uint8),
                   gt_heat_map=np.ones((5, 7), np.float32),
                   labeled_tasks=['heat'])
    packed = PackMTLInputs()(MTLPad(size=(8, 8))(results))
    heat = packed['data_samples'].gt_heat.data
    assert heat.dtype == torch.float32 and heat.shape == (1, 8, 8)
    assert heat[0, :5, :7].eq(1).all() and heat[0, 5:].eq(-1).all()
