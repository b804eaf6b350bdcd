"""SynthScenes: procedurally ray-cast 3-D scenes with exact multi-task labels.

Every sample is generated from ``(seed, index)`` alone, so the dataset needs no
files and is identical on every machine. A scene is a room (floor, walls,
ceiling) seen by a pinhole camera with a random height, yaw and pitch, holding
2-6 primitives (spheres, boxes, cylinders, pillars), each a detection class,
with random colours, procedural textures and a point light with shadows.

Ground truth, all exact:

- ``gt_bboxes``/``gt_bboxes_labels``: tight xyxy boxes of each object's
  *visible* pixels (objects with fewer than ``min_box_pixels`` visible pixels
  get no box, but keep their segmentation);
- ``gt_seg_map``: ``floor=0, wall=1`` then the object classes (``2 + label``);
- ``gt_depth``: metric z-depth in metres (camera frame);
- ``gt_normal``: unit surface normals in the camera frame (OpenCV axes: x
  right, y down, z forward), pointing towards the camera;
- ``gt_clean_img``: with ``underwater=True`` the input ``img`` is degraded by
  the underwater image-formation model
  ``I_c = J_c exp(-beta_c r) + B_c (1 - exp(-beta_c r))`` (``r`` the range
  along the ray, ``beta`` and backscatter ``B`` from a random water type) and
  the clean render ``J`` is the enhancement target.

Partial labelling: ``label_groups=[['det', 'seg'], ['depth']]`` gives sample
``i`` the labels of group ``i % len(groups)`` (like PASCAL VOC merged with
NYUv2); ``label_prob=dict(depth=0.5)`` keeps each task's label with that
probability (drawn from ``(seed, index)``). Unlabelled tasks are absent.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from mtlbox.registry import DATASETS

from .base import with_test_mode

OBJECT_CLASSES = ('sphere', 'box', 'cylinder', 'pillar')
STUFF_CLASSES = ('floor', 'wall')
ALL_TASKS = ('det', 'seg', 'depth', 'normal', 'enhance')

#: water type -> (attenuation beta [R, G, B] per metre, backscatter [R, G, B])
WATER_TYPES = {
    'oceanic': ((0.40, 0.10, 0.07), (0.05, 0.30, 0.45)),
    'coastal': ((0.45, 0.15, 0.25), (0.10, 0.40, 0.30)),
    'turbid': ((0.55, 0.35, 0.40), (0.25, 0.35, 0.28)),
}

_EPS = 1e-6
_INF = np.float32(np.inf)


# ---------------------------------------------------------------- geometry
def _hit_sphere(o, d, center, radius):
    oc = o - center
    b = d @ oc
    c = oc @ oc - radius * radius
    disc = b * b - c
    t = np.full(len(d), np.inf, np.float32)
    ok = disc > 0
    root = np.sqrt(np.where(ok, disc, 0))
    near = -b - root
    ok &= near > _EPS
    t[ok] = near[ok]
    p = o + d * np.where(ok, t, 0)[:, None]
    n = (p - center) / radius
    return t, n


def _hit_box(o, d, center, half, angle):
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)  # local->world
    ol = (o - center) @ rot
    dl = d @ rot
    dl = np.where(np.abs(dl) < _EPS, _EPS, dl)
    t1 = (-half - ol) / dl
    t2 = (half - ol) / dl
    tmin_axes = np.minimum(t1, t2)
    tmin = tmin_axes.max(axis=1)
    tmax = np.maximum(t1, t2).min(axis=1)
    ok = (tmax >= tmin) & (tmin > _EPS)
    t = np.where(ok, tmin, np.inf).astype(np.float32)
    axis = tmin_axes.argmax(axis=1)
    nl = np.zeros_like(dl)
    nl[np.arange(len(d)), axis] = -np.sign(dl[np.arange(len(d)), axis])
    return t, nl @ rot.T


def _hit_cylinder(o, d, center, radius, height):
    ox, oz = o[0] - center[0], o[2] - center[2]
    a = d[:, 0]**2 + d[:, 2]**2
    b = ox * d[:, 0] + oz * d[:, 2]
    c = ox * ox + oz * oz - radius * radius
    disc = b * b - a * c
    ok = (disc > 0) & (a > _EPS)
    t_side = np.where(ok, (-b - np.sqrt(np.where(ok, disc, 0))) /
                      np.where(a > _EPS, a, 1), np.inf)
    y = o[1] + d[:, 1] * t_side
    side_ok = ok & (t_side > _EPS) & (y >= 0) & (y <= height)
    t_side = np.where(side_ok, t_side, np.inf)
    dy = np.where(np.abs(d[:, 1]) < _EPS, -_EPS, d[:, 1])
    t_top = (height - o[1]) / dy
    px = ox + d[:, 0] * t_top
    pz = oz + d[:, 2] * t_top
    top_ok = (t_top > _EPS) & (px * px + pz * pz <= radius * radius)
    t_top = np.where(top_ok, t_top, np.inf)
    t = np.minimum(t_side, t_top).astype(np.float32)
    n = np.zeros_like(d)
    use_side = t_side <= t_top
    p = o + d * np.where(np.isfinite(t), t, 0)[:, None]
    n[:, 0] = np.where(use_side, (p[:, 0] - center[0]) / radius, 0)
    n[:, 2] = np.where(use_side, (p[:, 2] - center[2]) / radius, 0)
    n[:, 1] = np.where(use_side, 0, 1)
    return t, n


def _hit_room(o, d, room):
    """Exit distance of rays from inside the room box, normal and class."""
    lo = np.array([-room['half_width'], 0.0, room['z_min']], np.float32)
    hi = np.array([room['half_width'], room['height'], room['z_max']],
                  np.float32)
    dd = np.where(np.abs(d) < _EPS, _EPS, d)
    t_axes = np.where(dd > 0, (hi - o) / dd, (lo - o) / dd)
    axis = t_axes.argmin(axis=1)
    t = t_axes[np.arange(len(d)), axis].astype(np.float32)
    n = np.zeros_like(d)
    n[np.arange(len(d)), axis] = -np.sign(dd[np.arange(len(d)), axis])
    is_floor = (axis == 1) & (d[:, 1] < 0)
    return t, n, is_floor


def _intersect_objects(o, d, objects):
    """Nearest object hit of each ray: distance, normal, object index."""
    best_t = np.full(len(d), np.inf, np.float32)
    best_n = np.zeros_like(d)
    best_i = np.full(len(d), -1, np.int64)
    for i, obj in enumerate(objects):
        kind = obj['kind']
        if kind == 'sphere':
            t, n = _hit_sphere(o, d, obj['center'], obj['radius'])
        elif kind in ('box', 'pillar'):
            t, n = _hit_box(o, d, obj['center'], obj['half'], obj['angle'])
        else:
            t, n = _hit_cylinder(o, d, obj['center'], obj['radius'],
                                 obj['height'])
        closer = t < best_t
        best_t = np.where(closer, t, best_t)
        best_n[closer] = n[closer]
        best_i[closer] = i
    return best_t, best_n, best_i


def _any_hit(points, directions, max_t, objects):
    """Whether each shadow ray hits an object before ``max_t``."""
    blocked = np.zeros(len(points), bool)
    for obj in objects:
        for j in range(0, len(points), 1 << 16):
            sl = slice(j, j + (1 << 16))
            p, dd = points[sl], directions[sl]
            ts = np.full(len(p), np.inf, np.float32)
            # per-ray origins: intersect with each origin separately
            if obj['kind'] == 'sphere':
                oc = p - obj['center']
                b = (dd * oc).sum(1)
                c = (oc * oc).sum(1) - obj['radius']**2
                disc = b * b - c
                ok = disc > 0
                near = -b - np.sqrt(np.where(ok, disc, 0))
                ts = np.where(ok & (near > 1e-3), near, np.inf)
            else:
                ts = _shadow_generic(p, dd, obj)
            blocked[sl] |= ts < max_t[sl]
    return blocked


def _shadow_generic(points, directions, obj):
    """Boxes and cylinders against rays with per-ray origins."""
    if obj['kind'] in ('box', 'pillar'):
        c, s = np.cos(obj['angle']), np.sin(obj['angle'])
        rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)
        ol = (points - obj['center']) @ rot
        dl = directions @ rot
        dl = np.where(np.abs(dl) < _EPS, _EPS, dl)
        t1 = (-obj['half'] - ol) / dl
        t2 = (obj['half'] - ol) / dl
        tmin = np.minimum(t1, t2).max(axis=1)
        tmax = np.maximum(t1, t2).min(axis=1)
        return np.where((tmax >= tmin) & (tmin > 1e-3), tmin, np.inf)
    center, radius, height = obj['center'], obj['radius'], obj['height']
    ox, oz = points[:, 0] - center[0], points[:, 2] - center[2]
    a = directions[:, 0]**2 + directions[:, 2]**2
    b = ox * directions[:, 0] + oz * directions[:, 2]
    c = ox * ox + oz * oz - radius * radius
    disc = b * b - a * c
    ok = (disc > 0) & (a > _EPS)
    t = np.where(ok, (-b - np.sqrt(np.where(ok, disc, 0))) /
                 np.where(a > _EPS, a, 1), np.inf)
    y = points[:, 1] + directions[:, 1] * t
    return np.where(ok & (t > 1e-3) & (y >= 0) & (y <= height), t, np.inf)


# ------------------------------------------------------------------- scene
def _random_color(rng, saturation=(0.45, 0.95), value=(0.45, 0.95)):
    h = rng.random()
    s = rng.uniform(*saturation)
    v = rng.uniform(*value)
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v),
           (v, p, q)][i]
    return np.array(rgb, np.float32)


def sample_scene(rng: np.random.Generator, max_objects: int = 6) -> dict:
    """Draw room, camera, light and objects of one scene."""
    room = dict(
        half_width=rng.uniform(2.5, 4.0),
        height=rng.uniform(2.6, 3.2),
        z_min=-2.0,
        z_max=rng.uniform(5.5, 8.0))
    camera = dict(
        position=np.array(
            [rng.uniform(-0.6, 0.6), rng.uniform(1.1, 1.8), 0.0], np.float32),
        yaw=rng.uniform(-0.35, 0.35),
        pitch=rng.uniform(0.25, 0.55),
        fov=np.deg2rad(rng.uniform(55, 70)))
    objects: List[dict] = []
    count = int(rng.integers(2, max_objects + 1))
    tries = 0
    while len(objects) < count and tries < 60:
        tries += 1
        label = int(rng.integers(len(OBJECT_CLASSES)))
        kind = OBJECT_CLASSES[label]
        size = rng.uniform(0.3, 0.6)
        z = rng.uniform(1.6, room['z_max'] - 0.8)
        x_span = min(room['half_width'] - 0.6, 0.45 * z + 0.3)
        x = camera['position'][0] + np.tan(camera['yaw']) * z + \
            rng.uniform(-x_span, x_span)
        x = float(np.clip(x, -room['half_width'] + 0.6,
                          room['half_width'] - 0.6))
        footprint = size * (1.3 if kind == 'box' else 1.0)
        if any((x - o['xz'][0])**2 + (z - o['xz'][1])**2 <
               (footprint + o['footprint'] + 0.1)**2 for o in objects):
            continue
        obj = dict(kind=kind, label=label, xz=(x, z), footprint=footprint,
                   color=_random_color(rng),
                   texture=rng.uniform(4, 12), texture_amp=rng.uniform(0, .25))
        if kind == 'sphere':
            obj.update(radius=size, center=np.array([x, size, z], np.float32))
        elif kind == 'box':
            half = np.array([size * rng.uniform(0.75, 1.2),
                             size * rng.uniform(0.6, 1.0),
                             size * rng.uniform(0.75, 1.2)], np.float32)
            obj.update(half=half, angle=rng.uniform(0, np.pi / 2),
                       center=np.array([x, half[1], z], np.float32))
        elif kind == 'pillar':
            half = np.array([size * 0.4, size * rng.uniform(1.8, 2.4),
                             size * 0.4], np.float32)
            obj.update(half=half, angle=rng.uniform(0, np.pi / 2),
                       center=np.array([x, half[1], z], np.float32))
        else:
            height = size * rng.uniform(1.4, 2.4)
            obj.update(radius=size * 0.8, height=height,
                       center=np.array([x, 0.0, z], np.float32))
        objects.append(obj)
    floor_colors = (_random_color(rng, (0.0, 0.5), (0.35, 0.9)),
                    _random_color(rng, (0.0, 0.5), (0.2, 0.7)))
    light = dict(
        position=np.array([rng.uniform(-2, 2), room['height'] - 0.2,
                           rng.uniform(1.0, room['z_max'] - 1)], np.float32),
        intensity=rng.uniform(0.7, 1.1),
        ambient=rng.uniform(0.25, 0.45))
    return dict(room=room, camera=camera, objects=objects, light=light,
                floor_colors=floor_colors, floor_scale=rng.uniform(0.4, 1.2),
                wall_color=_random_color(rng, (0.0, 0.4), (0.5, 0.95)),
                wall_stripe=rng.uniform(0.3, 1.0))


def camera_rays(camera: dict, height: int, width: int):
    """World-space ray directions, camera-frame directions and rotation.

    Returns ``(dirs_world [HW, 3] unit, dirs_cam [HW, 3] unit, R [3, 3],
    focal)``; ``R``'s columns are the camera's right, down and forward axes
    in world coordinates (world: x right, y up, z forward).
    """
    focal = 0.5 * width / np.tan(camera['fov'] / 2)
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    x = (u + 0.5 - width / 2) / focal
    y = (v + 0.5 - height / 2) / focal
    dirs_cam = np.stack([x, y, np.ones_like(x)], -1).reshape(-1, 3)
    dirs_cam /= np.linalg.norm(dirs_cam, axis=1, keepdims=True)
    yaw, pitch = camera['yaw'], camera['pitch']
    forward = np.array([np.sin(yaw) * np.cos(pitch), -np.sin(pitch),
                        np.cos(yaw) * np.cos(pitch)], np.float32)
    right = np.array([np.cos(yaw), 0.0, -np.sin(yaw)], np.float32)
    down = np.cross(right, forward)
    rot = np.stack([right, down, forward], axis=1).astype(np.float32)
    return (dirs_cam @ rot.T).astype(np.float32), dirs_cam, rot, focal


def render_scene(scene: dict, height: int, width: int,
                 min_box_pixels: int = 12) -> Dict[str, np.ndarray]:
    """Ray-cast ``scene``; returns the clean image and exact labels.

    Pixel ``(u, v)`` (column, row) looks along camera-frame direction
    ``((u + 0.5 - cx) / f, (v + 0.5 - cy) / f, 1)`` with ``cam_K`` =
    ``[[f, 0, cx], [0, f, cy], [0, 0, 1]]``.
    """
    cam = scene['camera']
    origin = cam['position']
    dirs, dirs_cam, rot, focal = camera_rays(cam, height, width)
    t_room, n_room, is_floor = _hit_room(origin, dirs, scene['room'])
    t_obj, n_obj, obj_idx = _intersect_objects(origin, dirs, scene['objects'])
    hit_obj = t_obj < t_room
    t = np.where(hit_obj, t_obj, t_room)
    normal = np.where(hit_obj[:, None], n_obj, n_room)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    facing = (normal * dirs).sum(1) > 0
    normal[facing] *= -1
    points = origin + dirs * t[:, None]

    # semantic labels and instance ids
    seg = np.where(is_floor, 0, 1).astype(np.int64)
    instance = np.where(hit_obj, obj_idx, -1)
    labels_of = np.array([o['label'] for o in scene['objects']] + [0])
    seg = np.where(hit_obj, 2 + labels_of[instance], seg)

    # albedo with procedural textures
    albedo = np.empty_like(points)
    fc0, fc1 = scene['floor_colors']
    sc = scene['floor_scale']
    checker = (np.floor(points[:, 0] / sc) + np.floor(points[:, 2] / sc)) % 2
    albedo[:] = np.where(checker[:, None] > 0, fc0, fc1)
    wall = ~is_floor & ~hit_obj
    stripe = 0.85 + 0.15 * np.sign(
        np.sin((points[:, 0] + points[:, 2]) / scene['wall_stripe'] * np.pi))
    albedo[wall] = scene['wall_color'] * stripe[wall, None]
    for i, obj in enumerate(scene['objects']):
        mask = instance == i
        if not mask.any():
            continue
        p = points[mask]
        pattern = np.sin(p[:, 0] * obj['texture']) * np.sin(
            p[:, 1] * obj['texture']) * np.sin(p[:, 2] * obj['texture'])
        albedo[mask] = obj['color'] * (1 + obj['texture_amp'] * pattern)[:,
                                                                          None]

    # Lambertian shading with a point light and hard shadows
    light = scene['light']
    to_light = light['position'] - points
    dist = np.linalg.norm(to_light, axis=1)
    to_light /= np.maximum(dist, _EPS)[:, None]
    lambert = np.clip((normal * to_light).sum(1), 0, None)
    shadow = _any_hit(points + normal * 1e-3, to_light, dist,
                      scene['objects'])
    direct = light['intensity'] * lambert * np.where(shadow, 0.25, 1.0)
    direct *= 6.0 / (4.0 + dist**2)
    shade = light['ambient'] + direct
    clean = np.clip(albedo * shade[:, None], 0, 1)

    depth = (t * dirs_cam[:, 2]).astype(np.float32)
    normal_cam = normal @ rot  # world -> camera: R^T n, as row vectors

    boxes, box_labels = [], []
    inst = instance.reshape(height, width)
    for i, obj in enumerate(scene['objects']):
        ys, xs = np.nonzero(inst == i)
        if len(ys) < min_box_pixels:
            continue
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        box_labels.append(obj['label'])
    return dict(
        clean=clean.reshape(height, width, 3).astype(np.float32),
        seg=seg.reshape(height, width),
        instance=inst,
        depth=depth.reshape(height, width),
        range=t.reshape(height, width).astype(np.float32),
        normal=normal_cam.reshape(height, width, 3).astype(np.float32),
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        box_labels=np.array(box_labels, np.int64),
        cam_K=np.array([[focal, 0, width / 2], [0, focal, height / 2],
                        [0, 0, 1]], np.float32))


def underwater(clean: np.ndarray, ranges: np.ndarray, beta, backscatter):
    """``I = J exp(-beta r) + B (1 - exp(-beta r))`` per RGB channel."""
    transmission = np.exp(-np.asarray(beta, np.float32) * ranges[..., None])
    return clean * transmission + np.asarray(backscatter, np.float32) * (
        1 - transmission)


def _to_uint8_bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(
        (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1])


@DATASETS.register_module()
class SynthScenes(BaseDataset):
    """The built-in synthetic multi-task dataset (see module docstring).

    Args:
        num_samples: number of scenes.
        img_size: ``(height, width)`` or one int.
        seed: dataset seed; sample ``i`` depends only on ``(seed, i)``.
        tasks: which labels exist at all (subset of
            ``('det', 'seg', 'depth', 'normal', 'enhance')``; ``enhance``
            needs ``underwater=True``).
        underwater: the input is the underwater-degraded image and the clean
            render is the ``enhance`` target.
        label_groups: partial labelling by groups (sample i gets group
            ``i % len``), e.g. ``[['det', 'seg'], ['depth']]``.
        label_prob: ``{task: probability}`` of keeping each task's label.
        max_objects: at most this many primitives per scene (>= 2).
        min_box_pixels: visible pixels an object needs to get a box.
        noise_std: std of Gaussian sensor noise added to the input (0-1).
        cache: keep rendered scenes in memory (per dataloader worker), so
            later epochs skip ray casting; about 25 bytes per pixel.
        pipeline: transforms after rendering (ending with PackMTLInputs).
    """

    METAINFO = dict(
        classes=OBJECT_CLASSES,
        seg_classes=STUFF_CLASSES + OBJECT_CLASSES,
        palette=[(220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 130, 30)],
        seg_ignore_index=255)

    def __init__(self,
                 num_samples: int = 256,
                 img_size=(96, 128),
                 seed: int = 0,
                 tasks: Sequence[str] = ('det', 'seg', 'depth', 'normal'),
                 underwater: bool = False,
                 label_groups: Optional[Sequence[Sequence[str]]] = None,
                 label_prob: Optional[Dict[str, float]] = None,
                 max_objects: int = 6,
                 min_box_pixels: int = 12,
                 noise_std: float = 0.01,
                 cache: bool = False,
                 pipeline=(),
                 **kwargs):
        if isinstance(img_size, int):
            img_size = (img_size, img_size)
        self.img_size = tuple(int(s) for s in img_size)
        if len(self.img_size) != 2 or min(self.img_size) < 8:
            raise ValueError(f'SynthScenes img_size={img_size}: need '
                             '(height, width) of at least 8 pixels')
        if num_samples < 1:
            raise ValueError(f'SynthScenes num_samples={num_samples} < 1')
        unknown = set(tasks) - set(ALL_TASKS)
        if unknown:
            raise ValueError(f'SynthScenes tasks {sorted(unknown)} unknown; '
                             f'choose from {ALL_TASKS}')
        if 'enhance' in tasks and not underwater:
            raise ValueError("SynthScenes task 'enhance' needs "
                             'underwater=True (the clean image is its target)')
        for group in label_groups or ():
            bad = set(group) - set(tasks)
            if bad:
                raise ValueError(f'label_groups entry {list(group)} names '
                                 f'{sorted(bad)} not in tasks={list(tasks)}')
        for task, prob in (label_prob or {}).items():
            if task not in tasks or not 0 <= prob <= 1:
                raise ValueError(f'label_prob[{task!r}]={prob}: task must be '
                                 f'in {list(tasks)} and prob in [0, 1]')
        if max_objects < 2:
            raise ValueError(f'SynthScenes max_objects={max_objects} < 2')
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.tasks = tuple(tasks)
        self.underwater = underwater
        self.label_groups = [list(g) for g in label_groups or []]
        self.label_prob = dict(label_prob or {})
        self.max_objects = max_objects
        self.min_box_pixels = min_box_pixels
        self.noise_std = noise_std
        self.cache = cache
        self._rendered: Dict[int, dict] = {}
        kwargs.setdefault('serialize_data', False)
        super().__init__(pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        return [dict(sample_idx=i) for i in range(self.num_samples)]

    def labeled_tasks(self, index: int, rng: np.random.Generator) -> List[str]:
        tasks = list(self.tasks)
        if self.label_groups:
            group = self.label_groups[index % len(self.label_groups)]
            tasks = [t for t in tasks if t in group]
        for task, prob in self.label_prob.items():
            if task in tasks and rng.random() >= prob:
                tasks.remove(task)
        return tasks

    def render(self, index: int) -> dict:
        """Pipeline results of sample ``index`` (before the pipeline)."""
        if not 0 <= index < self.num_samples:
            raise IndexError(f'SynthScenes index {index} out of range '
                             f'[0, {self.num_samples})')
        rng = np.random.default_rng([self.seed, index])
        scene = sample_scene(rng, self.max_objects)
        h, w = self.img_size
        out = render_scene(scene, h, w, self.min_box_pixels)
        label_rng = np.random.default_rng([self.seed, index, 1])
        results = dict(
            sample_idx=index,
            img_path=f'synth://{self.seed}/{index}',
            source='SynthScenes',
            ori_shape=(h, w),
            img_shape=(h, w),
            gt_bboxes=out['boxes'],
            gt_bboxes_labels=out['box_labels'],
            gt_ignore_flags=np.zeros(len(out['boxes']), bool),
            gt_seg_map=out['seg'].astype(np.uint8),
            gt_depth=out['depth'],
            gt_normal=out['normal'],
            cam_K=out['cam_K'],
            labeled_tasks=self.labeled_tasks(index, label_rng))
        image = out['clean']
        if self.underwater:
            water = list(WATER_TYPES)[int(rng.integers(len(WATER_TYPES)))]
            beta, back = WATER_TYPES[water]
            beta = np.asarray(beta) * rng.uniform(0.7, 1.3, 3)
            back = np.clip(np.asarray(back) * rng.uniform(0.8, 1.2, 3), 0, 1)
            image = underwater(image, out['range'], beta, back)
            results.update(gt_clean_img=_to_uint8_bgr(out['clean']),
                           water_type=water, water_beta=beta,
                           water_backscatter=back)
        if self.noise_std > 0:
            image = image + rng.normal(0, self.noise_std, image.shape)
        results['img'] = _to_uint8_bgr(image)
        return results

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        index = info['sample_idx']
        with_test_mode(info, self.test_mode)  # frame of packed labels
        if not self.cache:
            info.update(self.render(index))
            return info
        if index not in self._rendered:
            self._rendered[index] = self.render(index)
        # transforms may modify arrays in place: hand out copies
        info.update({
            k: v.copy() if isinstance(v, np.ndarray) else v
            for k, v in self._rendered[index].items()
        })
        return info
