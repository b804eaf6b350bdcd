import os.path as osp
import subprocess
import sys

import cv2

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, check=True,
                          capture_output=True, text=True)


def test_make_fixture_cli(tmp_path):
    out = _run('tools/data/make_fixture.py', 'voc', str(tmp_path / 'v'))
    assert 'voc: wrote' in out.stdout
    assert (tmp_path / 'v' / 'VOC2012' / 'Annotations' /
            '2008_000001.xml').is_file()
    listing = _run('tools/data/make_fixture.py', '--list').stdout
    for name in ('voc', 'nyuv2_mtan', 'nyud_mt', 'nyu_depth_list', 'duo',
                 'urpc', 'uieb', 'euvp', 'pascal_context', 'office_home',
                 'office31', 'mnist', 'cifar10'):
        assert name in listing


def test_browse_dataset_draws_labels(make, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'browse_dataset', osp.join(ROOT, 'tools/analysis/browse_dataset.py'))
    browse = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browse)
    voc = make('voc')
    nyu = make('nyuv2_mtan')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'''
load = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
train_dataloader = dict(dataset=dict(
    type='PartialMTLDataset',
    sources=[dict(type='VOCMTLDataset', data_root={voc["data_root"]!r},
                  pipeline=load + [dict(type='MTLResize', scale=(16, 12))]),
             dict(type='NYUv2MTANDataset', data_root={nyu["data_root"]!r},
                  pipeline=load)],
    pipeline=[dict(type='PackMTLInputs')]))
''')
    written = browse.main([str(cfg), '--output-dir', str(tmp_path / 'out'),
                           '--num', '6'])
    assert len(written) == 6
    img = cv2.imread(written[0])
    # VOC sample with det + seg: one panel (input with overlays)
    assert img.shape == (12, 16, 3)
    # NYUv2 sample: input + depth + normal panels
    assert cv2.imread(written[3]).shape == (12, 48, 3)


def test_error_anchors_exist_in_docs():
    import re

    from mtlbox import datasets
    from mtlbox.datasets.fixtures import FIXTURES
    docs = open(osp.join(ROOT, 'docs', 'datasets.md')).read()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', docs))
    for name in datasets.__all__:
        cls = getattr(datasets, name)
        layout = getattr(cls, 'LAYOUT', '')
        if layout:
            assert layout in anchors, (name, layout)
            fixture = cls.FIXTURE or layout
            if name != 'OfficeDataset':
                assert fixture in FIXTURES, (name, fixture)
