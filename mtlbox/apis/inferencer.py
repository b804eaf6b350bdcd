"""Run a trained multi-task model on your own images."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from .raw_outputs import RawOutputModel, decode_raw_outputs, raw_output_names

#: file endings a folder is searched for (``.npy``: HWC RGB arrays)
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                    '.npy')

ImageInput = Union[str, os.PathLike, np.ndarray]


class InferenceInputError(ValueError):
    """An input that is not an image the inferencer can read."""


def _is_annotation_loader(step: dict) -> bool:
    from mtlbox.datasets.transforms import LoadMTLAnnotations
    from mtlbox.registry import TRANSFORMS
    name = str(step.get('type', ''))
    cls = TRANSFORMS.get(name) if isinstance(step.get('type'), str) else \
        step.get('type')
    if isinstance(cls, type) and issubclass(cls, LoadMTLAnnotations):
        return True
    return name.rsplit('.', 1)[-1].endswith('Annotations')


def _is_image_loader(step: dict) -> bool:
    from mtlbox.datasets.transforms import LoadMTLImageFromFile
    from mtlbox.registry import TRANSFORMS
    cls = step.get('type')
    if isinstance(cls, str):
        cls = TRANSFORMS.get(cls)
    return isinstance(cls, type) and issubclass(cls, LoadMTLImageFromFile)


def _source_name(source_cfg) -> str:
    return str(source_cfg.get('source') or source_cfg.get('type'))


def inference_pipeline(dataset_cfg: dict,
                       source: Optional[str] = None) -> List[dict]:
    """The transforms a test image goes through, for an image that has no
    labels: the dataset's test pipeline (after a
    :class:`PartialMTLDataset`'s, the pipeline of the source ``source``,
    which may be left out when all sources share one) without the
    annotation loaders, starting with ``LoadMTLImageFromFile`` (added when
    the dataset renders its images in memory, as SynthScenes)."""
    steps: List[dict] = []
    sources = dataset_cfg.get('sources')
    if sources:
        names = [_source_name(s) for s in sources]
        if source is None:
            pipelines = {repr(list(s.get('pipeline', []))) for s in sources}
            if len(pipelines) > 1:
                raise ValueError(
                    f'the test dataset composes sources {names} with '
                    'different pipelines; choose the one your images are '
                    "like with source=... (--source on tools/infer.py)")
            chosen = sources[0]
        elif source in names:
            chosen = sources[names.index(source)]
        else:
            raise ValueError(f'source={source!r} is not a source of the '
                             f'test dataset ({names})')
        steps += list(chosen.get('pipeline', []))
    elif source is not None:
        raise ValueError(f'source={source!r} given, but the test dataset '
                         f'({dataset_cfg.get("type")}) has no sources')
    steps += list(dataset_cfg.get('pipeline', []))
    steps = [dict(s) for s in steps if not _is_annotation_loader(s)]
    if not any(_is_image_loader(s) for s in steps):
        steps.insert(0, dict(type='LoadMTLImageFromFile'))
    return steps


def dataset_metainfo(dataset_cfg: dict, checkpoint_meta: Optional[dict] = None
                     ) -> dict:
    """Class names and palettes without building the dataset (which needs
    its files): the checkpoint's ``meta['dataset_meta']`` (written by
    mmengine's Runner) when present, else the dataset classes' ``METAINFO``
    (per source for a :class:`PartialMTLDataset`) updated by the config's
    ``metainfo``."""
    saved = (checkpoint_meta or {}).get('dataset_meta')
    if saved:
        return dict(saved)
    from mtlbox.registry import DATASETS

    def own(cfg):
        cls = cfg.get('type')
        cls = DATASETS.get(cls) if isinstance(cls, str) else cls
        meta = dict(getattr(cls, 'METAINFO', {}) or {})
        meta.update(cfg.get('metainfo') or {})
        return meta

    if dataset_cfg.get('sources'):
        return dict(sources={_source_name(s): own(s)
                             for s in dataset_cfg['sources']})
    return own(dataset_cfg)


def collect_images(images) -> List[ImageInput]:
    """Flatten ``images`` (a path, a folder, an array or a list of these)
    into a list of file paths and arrays; a folder gives its image files
    (:data:`IMAGE_EXTENSIONS`) in name order."""
    if isinstance(images, (str, os.PathLike)):
        path = os.fspath(images)
        if osp.isdir(path):
            files = sorted(f for f in os.listdir(path)
                           if f.lower().endswith(IMAGE_EXTENSIONS))
            if not files:
                raise InferenceInputError(
                    f'{path}: folder holds no image '
                    f'({", ".join(IMAGE_EXTENSIONS)})')
            return [osp.join(path, f) for f in files]
        if not osp.isfile(path):
            raise FileNotFoundError(f'input image {path} not found')
        return [path]
    if isinstance(images, np.ndarray):
        return [images]
    if isinstance(images, (list, tuple)):
        out: List[ImageInput] = []
        for item in images:
            out += collect_images(item)
        return out
    raise InferenceInputError(
        f'cannot read an image from a {type(images).__name__}; give a '
        'path, a folder, a numpy array HxWx3 uint8 or a list of these')


def _as_bgr(array: np.ndarray, color_order: str, index: int) -> np.ndarray:
    if array.dtype != np.uint8:
        raise InferenceInputError(
            f'image array {index}: dtype {array.dtype}, expected uint8 '
            '(for floats in [0, 1]: (img * 255).round().astype(np.uint8))')
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise InferenceInputError(
            f'image array {index}: shape {array.shape}, expected HxWx3 '
            '(HWC, not CHW), HxWx4 or HxW')
    array = array[..., :3]
    if color_order == 'rgb':
        array = array[..., ::-1]
    return np.ascontiguousarray(array)


class MTLInferencer:
    """Predictions of a trained multi-task model on images.

    ``MTLInferencer(config, checkpoint)(images)`` returns one dict per
    image (:meth:`to_result`): ``img_path``, ``ori_shape`` (h, w) and
    ``predictions``, ``{task: ...}`` in the original image frame::

        det    bboxes [K, 4] xyxy pixels, scores [K], labels [K],
               label_names [K] (the dataset's class names)
        seg    label_map [H, W] int64, classes (the names of the indices)
        parts  as seg
        depth  depth [H, W] float32 (metres)
        normal normal [H, W, 3] float32 unit vectors (x right, y down,
               z away from the camera)
        enhance image [H, W, 3] float32 RGB in [0, 1]
        saliency / edge  prob [H, W] float32
        cls    label, label_name, scores [C]

    Each image goes through the config's test pipeline (resize, pad ...;
    annotation loading left out, :func:`inference_pipeline`), the model's
    data preprocessor, the network (:class:`RawOutputModel`) and each
    head's decoding (:func:`decode_raw_outputs`), the very steps of
    ``tools/test.py``.

    Args:
        config: config file (or a loaded ``Config``).
        checkpoint: ``.pth`` checkpoint (a state dict under
            ``state_dict``); an ``.onnx`` file of
            ``tools/deploy/export_onnx.py`` (the network then runs in
            onnxruntime, pre- and post-processing as for PyTorch); ``None``
            keeps the initial weights.
        device: ``'cpu'``, ``'cuda'``...; default CUDA when available.
        tasks: tasks to predict (default all; a list or ``'det,seg'``); the
            others' heads do not run.
        color_order: channel order of numpy inputs, ``'bgr'`` (OpenCV's
            ``cv2.imread``, the default) or ``'rgb'`` (PIL, matplotlib).
            Image files are read with OpenCV whatever this says.
        batch_size: images per forward pass.
        source: for a config whose test set composes sources with different
            pipelines, the source whose pipeline to use.
        cfg_options: overrides as ``--cfg-options`` of the tools.
    """

    def __init__(self, config, checkpoint: Optional[str] = None,
                 device: Optional[str] = None,
                 tasks: Optional[Sequence[str]] = None,
                 color_order: str = 'bgr', batch_size: int = 1,
                 source: Optional[str] = None, cfg_options=None):
        import mtlbox
        from mmengine.dataset import Compose
        from mmengine.runner.checkpoint import _load_checkpoint_to_model

        from mtlbox.compat import safe_load
        from mtlbox.registry import MODELS
        from mtlbox.utils.config_check import load_config
        mtlbox.register_all_modules(init_default_scope=True)
        if color_order not in ('bgr', 'rgb'):
            raise ValueError(f"color_order={color_order!r}: use 'bgr' or "
                             "'rgb'")
        if checkpoint is not None and not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint} not found')
        if isinstance(tasks, str):  # 'det,seg' as on the command line
            tasks = [t.strip() for t in tasks.split(',') if t.strip()]
        if isinstance(config, (str, os.PathLike)):
            if not osp.isfile(config):
                raise FileNotFoundError(f'config {config} not found')
            cfg = load_config(os.fspath(config), cfg_options)
        else:
            cfg = config
        self.cfg = cfg
        self.color_order = color_order
        self.batch_size = max(int(batch_size), 1)
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        self.device = torch.device(device)
        self.model = MODELS.build(cfg.model)
        meta = {}
        self.session = None
        if checkpoint is not None and os.fspath(checkpoint).endswith(
                '.onnx'):
            # the graph of tools/deploy/export_onnx.py; the model built from
            # the config only pre- and post-processes (no weights needed)
            import onnxruntime
            self.session = onnxruntime.InferenceSession(
                os.fspath(checkpoint), providers=['CPUExecutionProvider'])
        elif checkpoint is not None:
            ckpt = safe_load(os.fspath(checkpoint), map_location='cpu')
            state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) \
                else ckpt
            _load_checkpoint_to_model(self.model, state, strict=False)
            meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        self.model.to(self.device).eval()
        unknown = [t for t in tasks or () if t not in self.model.tasks]
        if unknown:
            raise KeyError(f'tasks {unknown} are not tasks of the model in '
                           f'{getattr(cfg, "filename", "the config")} '
                           f'(tasks: {self.model.tasks})')
        self.tasks = list(tasks) if tasks else list(self.model.tasks)
        self.network = RawOutputModel(self.model, self.tasks).eval()
        dataset_cfg = cfg.test_dataloader.dataset
        self.pipeline = Compose(inference_pipeline(dataset_cfg, source))
        self.metainfo = dataset_metainfo(dataset_cfg, meta)

    # ------------------------------------------------------------- steps
    def preprocess(self, images) -> List[dict]:
        """Batches ``dict(inputs=Tensor[B, 3, H, W], data_samples=[...])``
        as the model's data preprocessor makes them: what the network (or
        its ONNX export) takes, with the meta information the decoding
        needs."""
        items = collect_images(images)
        batches = []
        for start in range(0, len(items), self.batch_size):
            data = [self._load(item, start + k) for k, item in
                    enumerate(items[start:start + self.batch_size])]
            batch = dict(inputs=[d['inputs'] for d in data],
                         data_samples=[d['data_samples'] for d in data])
            batches.append(self.model.data_preprocessor(batch, False))
        return batches

    def _load(self, item: ImageInput, index: int) -> dict:
        results = dict(sample_idx=index, labeled_tasks=[])
        if isinstance(item, np.ndarray):
            results['img'] = _as_bgr(item, self.color_order, index)
            results['img_path'] = None
        else:
            results['img_path'] = item
        return self.pipeline(results)

    @torch.no_grad()
    def predict_samples(self, images) -> list:
        """One :class:`MTLDataSample` per image with ``pred_*`` fields in the
        original image frame (what ``tools/test.py`` hands its metrics)."""
        out = []
        for batch in self.preprocess(images):
            inputs = batch['inputs']
            raw = self.raw_outputs(inputs)
            out += decode_raw_outputs(self.model, raw, batch['data_samples'],
                                      inputs, self.tasks)
        return out

    def raw_outputs(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{name: raw tensor}`` of the network on a pre-processed batch:
        the PyTorch model, or the ONNX session when the checkpoint is an
        ``.onnx`` file."""
        if self.session is None:
            return dict(zip(raw_output_names(self.network, inputs),
                            self.network(inputs)))
        names = [o.name for o in self.session.get_outputs()]
        wanted = [n for n in names if n.split('.', 1)[0] in self.tasks]
        values = self.session.run(wanted, {
            'inputs': inputs.detach().cpu().numpy().astype(np.float32)})
        return {n: torch.from_numpy(v) for n, v in zip(wanted, values)}

    def __call__(self, images) -> List[dict]:
        return [self.to_result(s) for s in self.predict_samples(images)]

    # ----------------------------------------------------------- results
    def label_space(self, sample=None):
        """``(classes, seg_classes, seg_palette)`` of a sample's source."""
        from mtlbox.visualization.vis_hook import label_space, seg_classes_of
        source = None if sample is None else sample.metainfo.get('source')
        classes, palette = label_space(self.metainfo, source)
        return (tuple(classes), seg_classes_of(self.metainfo, source),
                palette)

    def to_result(self, sample) -> dict:
        """The plain per-image dict of a predicted sample (class doc)."""
        classes, seg_classes, _ = self.label_space(sample)
        meta = sample.metainfo
        preds = {}
        for task in self.tasks:
            value = task_prediction(self.model.heads[task], task, sample,
                                    classes, seg_classes)
            if value is not None:
                preds[task] = value
        return dict(img_path=meta.get('img_path'),
                    ori_shape=tuple(int(v) for v in meta['ori_shape'][:2]),
                    predictions=preds)


def pred_field_of(head, task: str) -> str:
    """The data sample field ``head.predict`` fills."""
    from mtlbox.models.heads import ATSSDetHead, ClsHead
    if isinstance(head, ATSSDetHead):
        return 'pred_instances'
    if isinstance(head, ClsHead):
        return f'pred_label_{task}'
    field = getattr(head, 'pred_field', '')
    return field or 'pred_label'


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def task_prediction(head, task: str, sample, classes=(),
                    seg_classes=()) -> Optional[Dict]:
    """One task's prediction of ``sample`` as numpy arrays (names in
    :class:`MTLInferencer`); None when the sample has none."""
    field = pred_field_of(head, task)
    value = getattr(sample, field, None)
    if value is None:
        return None
    if field == 'pred_instances':
        labels = _numpy(value.labels).astype(np.int64)
        return dict(bboxes=_numpy(value.bboxes).astype(np.float32),
                    scores=_numpy(value.scores).astype(np.float32),
                    labels=labels,
                    label_names=[classes[k] if 0 <= k < len(classes)
                                 else str(k) for k in labels.tolist()])
    if field.startswith('pred_label'):
        out = {k: _numpy(v) for k, v in value.items()}
        if 'label' in out and out['label'].size == 1:
            k = int(out['label'].reshape(()))
            out['label'] = k
            names = getattr(head, 'classes', None) or ()
            out['label_name'] = names[k] if k < len(names) else str(k)
        if 'score' in out:
            out['scores'] = out.pop('score')
        return out
    data = _numpy(value.data)
    if field in ('pred_sem_seg', 'pred_parts'):
        return dict(label_map=data[0].astype(np.int64),
                    classes=list(seg_classes if field == 'pred_sem_seg'
                                 else ()))
    if field == 'pred_depth':
        return dict(depth=data[0].astype(np.float32))
    if field == 'pred_normal':
        return dict(normal=data.transpose(1, 2, 0).astype(np.float32))
    if field == 'pred_clean_img':
        return dict(image=data.transpose(1, 2, 0).astype(np.float32))
    if field in ('pred_saliency', 'pred_edge'):
        return dict(prob=data[0].astype(np.float32))
    return dict(data=data)


def result_to_json(result: dict) -> tuple:
    """``(json_dict, arrays)`` of a :meth:`MTLInferencer.to_result` dict:
    boxes, scores, labels, names and classification outputs as JSON lists;
    each dense map summarised (shape; per-class pixel counts of a label
    map; min / median / max of a scalar map), the maps themselves in
    ``arrays`` as ``{'<task>.<key>': ndarray}`` (for an ``.npz``)."""
    out = dict(img_path=result.get('img_path'),
               ori_shape=list(result['ori_shape']), predictions={})
    arrays = {}
    for task, pred in result['predictions'].items():
        entry = {}
        for key, value in pred.items():
            if isinstance(value, np.ndarray) and value.ndim >= 2 and \
                    key != 'bboxes':
                arrays[f'{task}.{key}'] = value
                entry[f'{key}_shape'] = list(value.shape)
                if key == 'label_map':
                    names = pred.get('classes') or ()
                    ids, counts = np.unique(value, return_counts=True)
                    entry['pixels_per_class'] = {
                        (names[i] if 0 <= i < len(names) else str(i)): int(c)
                        for i, c in zip(ids.tolist(), counts.tolist())}
                elif value.dtype.kind == 'f':
                    entry[f'{key}_min'] = float(value.min())
                    entry[f'{key}_median'] = float(np.median(value))
                    entry[f'{key}_max'] = float(value.max())
            elif isinstance(value, np.ndarray):
                entry[key] = np.round(value.astype(np.float64), 4).tolist() \
                    if value.dtype.kind == 'f' else value.tolist()
            else:
                entry[key] = value
        out['predictions'][task] = entry
    return out, arrays


def draw_prediction(inferencer: MTLInferencer, sample, image_rgb: np.ndarray,
                    score_thr: float = 0.3) -> np.ndarray:
    """The :class:`MTLVisualizer` panel of a predicted sample (one row: the
    input and a tile per task, class names on boxes, the segmentation
    legend and the depth colour bar under the tiles), HxWx3 uint8 RGB.
    ``image_rgb``: the input image at its original size."""
    from mtlbox.visualization import MTLVisualizer
    classes, seg_classes, palette = inferencer.label_space(sample)
    vis = getattr(inferencer, '_visualizer', None)
    if vis is None:
        vis = MTLVisualizer(name=f'mtl_infer_{id(inferencer)}')
        inferencer._visualizer = vis
    vis.score_thr = score_thr
    return vis.draw_panel(image_rgb, sample, classes=classes, palette=palette,
                          seg_classes=seg_classes, show_gt=False)
