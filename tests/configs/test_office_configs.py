"""The Office-31 and Office-Home base configs share one set of pipelines:
the datasets say how their domains are packed (task_map), so Office-31 is
Office-Home's config on another dataset type and root. Layouts written
here (not by mtlbox's fixture generator), images smaller than 224."""
import numpy as np
import pytest
from PIL import Image

import mtlbox
from mtlbox.registry import DATASETS
from mtlbox.utils.config_check import load_config

mtlbox.register_all_modules()

CASES = [('office31', ('amazon', 'dslr', 'webcam'), ('bike', 'mug')),
         ('office_home', ('Art', 'Clipart', 'Product', 'Real_World'),
          ('Bed', 'Fan'))]


def write_office(root, domains, classes, split):
    rng = np.random.default_rng(0)
    (root / 'data_txt').mkdir(parents=True)
    for d, domain in enumerate(domains):
        lines = []
        for label, name in enumerate(classes):
            folder = root / domain / name
            folder.mkdir(parents=True)
            size = (40 + 7 * d, 30 + 5 * label)  # (w, h)
            pixels = rng.integers(0, 255, (size[1], size[0], 3), np.uint8)
            Image.fromarray(pixels).save(folder / 'frame_0001.jpg')
            lines.append(f'{domain}/{name}/frame_0001.jpg {label}')
        (root / 'data_txt' / f'{domain}_{split}.txt').write_text(
            '\n'.join(lines) + '\n')


@pytest.mark.parametrize('name, domains, classes', CASES)
def test_each_domain_is_packed_as_its_own_cls_task(tmp_path, name, domains,
                                                   classes):
    write_office(tmp_path, domains, classes, 'test')
    cfg = load_config(f'configs/_base_/datasets/{name}.py',
                      {'data_root': str(tmp_path) + '/'})
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(dataset) == len(domains) * len(classes)
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        domain = sample.metainfo['task_name']
        assert sample.metainfo['labeled_tasks'] == [domain]
        assert sample.is_labeled(domain)
        assert tuple(sample.gt_label.label.tolist()) in {(0, ), (1, )}
        assert dataset[i]['inputs'].shape[-2:] == (224, 224)
        seen.add(domain)
    assert seen == set(domains)
