"""Small configurations of every sharing architecture, shared by the tests
(not a test module: no ``test_`` prefix)."""
import torch

TASKS = ['seg', 'depth']

#: name -> (architecture config, backbone config, neck config or None)
CASES = {
    'HPS': (dict(type='HPS'),
            dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
            dict(type='FPN', in_channels=[24, 48], out_channels=8)),
    'MTAN': (dict(type='MTAN', in_channels=[24, 48]),
             dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
             None),
    'MMoE': (dict(type='MMoE', in_channels=[8, 8], num_experts=3),
             dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
             dict(type='FPN', in_channels=[24, 48], out_channels=8)),
    'CGC': (dict(type='CGC', in_channels=[8, 8], num_shared_experts=2,
                 num_task_experts=1),
            dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
            dict(type='FPN', in_channels=[24, 48], out_channels=8)),
    'PLE': (dict(type='PLE', in_channels=[8, 8], num_layers=3,
                 num_shared_experts=1, num_task_experts=1),
            dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
            dict(type='FPN', in_channels=[24, 48], out_channels=8)),
    'DSelectK': (dict(type='DSelectK', in_channels=[8, 8], num_experts=4,
                      k=2, gamma=10.0),
                 dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
                 dict(type='FPN', in_channels=[24, 48], out_channels=8)),
    'CrossStitch': (dict(type='CrossStitch',
                         backbone=dict(type='MobileNetV3', arch='small',
                                       out_indices=(0, 1)),
                         neck=dict(type='FPN', in_channels=[16, 24],
                                   out_channels=8)),
                    dict(type='ImageInput'), None),
    'NDDR': (dict(type='NDDR',
                  backbone=dict(type='MobileNetV3', arch='small',
                                out_indices=(0, 1)),
                  neck=dict(type='FPN', in_channels=[16, 24],
                            out_channels=8)),
             dict(type='ImageInput'), None),
    'SquadSplit': (dict(type='SquadSplit', num_shared=2),
                   dict(type='SquadNet', num_tasks=2, num_shared=2,
                        channels=2, depths=(1, 1, 1), out_indices=(1, 2)),
                   None),
}

#: channels each task's head reads per level
HEAD_CHANNELS = {name: [8, 8] for name in CASES}
HEAD_CHANNELS['SquadSplit'] = [3 * 4, 3 * 8]
HEAD_CHANNELS['MTAN'] = [24, 48]


def build_arch(name, tasks=TASKS):
    from mtlbox.registry import MODELS
    torch.manual_seed(0)
    return MODELS.build(dict(CASES[name][0], tasks=list(tasks)))


def arch_inputs(name, n=2, size=32):
    """Inputs the architecture receives inside the model."""
    from mtlbox.registry import MODELS
    torch.manual_seed(1)
    _, backbone, neck = CASES[name]
    x = torch.randn(n, 3, size, size)
    feats = MODELS.build(backbone).eval()(x)
    if neck is not None:
        feats = MODELS.build(neck).eval()(feats)
    return [f.detach() for f in feats]
