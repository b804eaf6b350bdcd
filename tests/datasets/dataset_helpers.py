"""Pipelines shared by the dataset tests."""
LOAD = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
META = ('img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
        'source', 'labeled_tasks', 'task_names', 'task_name', 'sample_idx')
PACK = dict(type='PackMTLInputs', meta_keys=META)
