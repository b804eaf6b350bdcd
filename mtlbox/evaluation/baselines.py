"""Single-task baselines: reading them from result files, and the values
the literature's benchmark tables are computed against.

One reader for every tool: :func:`read_metrics_json` (one ``tools/test.py
--out`` file), :func:`merge_metrics` (several, one per single-task run) and
:func:`load_baselines` (what ``MTLEvaluator(baselines=...)`` and
``tools/analysis/compare_runs.py --baselines`` accept).
"""
import json
import os.path as osp
from typing import Dict, Sequence, Union

from mtlbox.datasets.celeba import CELEBA_ATTRIBUTES

#: Published single-task baselines, ``name -> {key: value}``; the keys are
#: mtlbox's metric keys of the matching recipe. Use as
#: ``MTLEvaluator(baselines='published:<name>')``. Sources in
#: docs/protocol.md.
PUBLISHED_BASELINES: Dict[str, Dict[str, float]] = {
    # Nash-MTL (Navon et al. ICML 2022) / FAMO (Liu et al. NeurIPS 2023):
    # single-task SegNet, NYUv2 MTAN protocol; experiments/nyuv2 BASE.
    'nyuv2_segnet_mtan': {
        'seg/mIoU': 0.3830, 'seg/aAcc': 0.6376,
        'depth/abs_err': 0.6754, 'depth/abs_rel': 0.2780,
        'normal/mean': 25.01, 'normal/median': 19.21,
        'normal/11.25': 0.3014, 'normal/22.5': 0.5720, 'normal/30': 0.6915,
    },
    # FAMO / FairGrad experiments/cityscapes BASE: 7-class segmentation +
    # (inverse) depth, SegNet, 128x256. abs_rel is the raw mean ratio.
    'cityscapes_segnet_mtan': {
        'seg/mIoU': 0.7401, 'seg/aAcc': 0.9316,
        'depth/abs_err': 0.0125, 'depth/abs_rel': 27.77,
    },
}

#: CelebA single-task F1 per attribute (FAMO issue #2), in the official
#: attribute order of ``list_attr_celeba.txt`` (:data:`CELEBA_ATTRIBUTES`).
CELEBA_STL_F1 = (
    .6737, .6812, .8152, .5760, .7206, .8555, .3820, .5823, .7876, .8321,
    .5030, .6869, .6781, .5240, .5162, .9569, .6969, .6798, .8808, .8582,
    .9703, .9327, .5058, .4031, .9704, .4864, .6079, .5261, .5691, .5982,
    .6858, .9241, .5425, .7406, .7102, .8737, .9306, .3370, .7648, .9191)

PUBLISHED_BASELINES['celeba_famo'] = {
    f'{name}/f1': value for name, value in zip(CELEBA_ATTRIBUTES,
                                               CELEBA_STL_F1)}


def read_metrics_json(path: str, what: str = 'metrics file') -> Dict[str,
                                                                    float]:
    """The numeric entries of one result JSON (``tools/test.py --out``),
    without the ``mtl/*`` scores (a multi-task score is no baseline).
    Errors name the file and how to make it."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{what} {path} not found; write it with tools/test.py CONFIG '
            'CKPT --out FILE')
    with open(path) as f:
        try:
            results = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{what} {path} is not JSON ({err})') from None
    if not isinstance(results, dict):
        raise ValueError(f'{what} {path} holds a {type(results).__name__}; '
                         'expected {"task/metric": value, ...}')
    return {k: float(v) for k, v in results.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            and not k.startswith('mtl/')}


def merge_metrics(paths: Sequence[str], what: str = 'baselines file',
                  allow_duplicates: bool = False) -> Dict[str, float]:
    """:func:`read_metrics_json` of each path, merged in order. A key in two
    files is an error (one result per single-task run) unless
    ``allow_duplicates`` (the later file wins)."""
    merged, origin = {}, {}
    for path in paths:
        for key, value in read_metrics_json(path, what).items():
            if key in merged and not allow_duplicates:
                raise ValueError(f'{key} is reported by both {origin[key]} '
                                 f'and {path}; pass one result per task')
            merged[key], origin[key] = value, path
    return merged


def load_baselines(baselines: Union[None, str, Dict[str, float],
                                    Sequence[str]]) -> Dict[str, float]:
    """Baselines from a dict, ``'published:<name>'`` (a key of
    :data:`PUBLISHED_BASELINES`), a JSON file (``tools/test.py --out`` or
    ``tools/analysis/collect_baselines.py``) or a list of JSON files (one
    per single-task run; a key in two of them is an error)."""
    if baselines is None:
        return {}
    if isinstance(baselines, dict):
        return {k: float(v) for k, v in baselines.items()}
    if isinstance(baselines, str) and baselines.startswith('published:'):
        name = baselines.partition(':')[2]
        if name not in PUBLISHED_BASELINES:
            raise KeyError(f'baselines={baselines!r}: no published baselines '
                           f'named {name!r}; have '
                           f'{sorted(PUBLISHED_BASELINES)}')
        return dict(PUBLISHED_BASELINES[name])
    paths = [baselines] if isinstance(baselines, str) else list(baselines)
    return merge_metrics(paths, 'MTLEvaluator baselines file')
