"""Adaptive Training Sample Selection (Zhang et al., CVPR 2020)."""
from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou

from mtlbox.registry import TASK_UTILS


class AssignResult(NamedTuple):
    """Per-anchor assignment.

    ``gt_inds`` [A] long: ``-1`` ignored (positive only for an ignored /
    "difficult" box: excluded from every loss), ``0`` negative, ``k > 0``
    positive for ground-truth box ``k - 1``. ``max_iou`` [A]: IoU with the
    assigned box (0 for negatives and ignored anchors).
    """
    gt_inds: Tensor
    max_iou: Tensor


def atss_assign(anchors: Tensor,
                num_level_anchors: Sequence[int],
                gt_bboxes: Tensor,
                gt_ignore: Optional[Tensor] = None,
                topk: int = 9,
                min_inside: float = 0.01) -> AssignResult:
    """ATSS label assignment of one image.

    1. Candidates: on each level, the ``topk`` anchors whose centres are
       nearest (L2) to the box centre (all anchors of a level with fewer).
    2. Threshold ``t_g = mean + std`` of the candidates' IoUs with box
       ``g`` (``std`` is the unbiased sample standard deviation, as the ATSS
       authors' code, ``torch.std``).
    3. A candidate is positive for ``g`` if ``IoU >= t_g`` and its centre
       lies inside ``g`` (each side at least ``min_inside`` pixels away).
    4. An anchor positive for several boxes takes the one of highest IoU.

    Boxes flagged in ``gt_ignore`` (VOC "difficult") take part in the same
    selection but never give positives: an anchor positive only for ignored
    boxes gets ``-1`` (neither positive nor negative); an anchor positive
    for a real box keeps it even if an ignored box overlaps it more.

    Shapes: anchors [A, 4] xyxy (levels concatenated in order, level ``l``
    holding ``num_level_anchors[l]`` anchors), gt_bboxes [G, 4] xyxy,
    gt_ignore [G] bool. Returns :class:`AssignResult`.
    """
    num_anchors = anchors.shape[0]
    if sum(num_level_anchors) != num_anchors:
        raise ValueError(f'atss_assign: num_level_anchors sum to '
                         f'{sum(num_level_anchors)} but there are '
                         f'{num_anchors} anchors')
    gt_inds = anchors.new_zeros(num_anchors, dtype=torch.long)
    max_iou = anchors.new_zeros(num_anchors)
    num_gt = gt_bboxes.shape[0]
    if num_gt == 0 or num_anchors == 0:
        return AssignResult(gt_inds, max_iou)
    if gt_ignore is None:
        gt_ignore = torch.zeros(num_gt, dtype=torch.bool,
                                device=gt_bboxes.device)
    gt_ignore = gt_ignore.bool().to(gt_bboxes.device)

    ious = box_iou(anchors, gt_bboxes)  # [A, G]
    a_cx = (anchors[:, 0] + anchors[:, 2]) / 2
    a_cy = (anchors[:, 1] + anchors[:, 3]) / 2
    g_cx = (gt_bboxes[:, 0] + gt_bboxes[:, 2]) / 2
    g_cy = (gt_bboxes[:, 1] + gt_bboxes[:, 3]) / 2
    dist = ((a_cx[:, None] - g_cx[None])**2 +
            (a_cy[:, None] - g_cy[None])**2).sqrt()  # [A, G]

    candidates = []
    start = 0
    for n in num_level_anchors:
        if n == 0:
            continue
        k = min(topk, n)
        _, idx = dist[start:start + n].topk(k, dim=0, largest=False)
        candidates.append(idx + start)
        start += n
    cand = torch.cat(candidates, dim=0)  # [K, G]
    cand_ious = ious.gather(0, cand)  # [K, G]
    if cand.shape[0] > 1:
        thr = cand_ious.mean(0) + cand_ious.std(0)
    else:
        thr = cand_ious.mean(0)
    gidx = torch.arange(num_gt, device=anchors.device).expand_as(cand)
    c_cx, c_cy = a_cx[cand], a_cy[cand]
    inside = torch.stack([
        c_cx - gt_bboxes[gidx, 0], c_cy - gt_bboxes[gidx, 1],
        gt_bboxes[gidx, 2] - c_cx, gt_bboxes[gidx, 3] - c_cy
    ], dim=-1).min(dim=-1).values > min_inside
    positive = (cand_ious >= thr[None]) & inside  # [K, G]

    # dense [A, G] IoU where positive, -1 elsewhere
    pos_iou = ious.new_full((num_anchors, num_gt), -1.0)
    flat = cand * num_gt + gidx
    pos_iou.view(-1)[flat[positive]] = cand_ious[positive]

    real = pos_iou.masked_fill(gt_ignore[None], -1.0)
    best_iou, best_gt = real.max(dim=1)
    is_pos = best_iou >= 0
    gt_inds[is_pos] = best_gt[is_pos] + 1
    max_iou[is_pos] = best_iou[is_pos]
    ignored_only = ~is_pos & (pos_iou.max(dim=1).values >= 0)
    gt_inds[ignored_only] = -1
    return AssignResult(gt_inds, max_iou)


@TASK_UTILS.register_module()
class ATSSAssigner:
    """Config wrapper of :func:`atss_assign`.

    Args:
        topk: candidates per level (ATSS paper: 9 with one anchor per
            location; AMTL's VMM: 27 = 9 locations x 3 anchors).
    """

    def __init__(self, topk: int = 9, min_inside: float = 0.01):
        if topk < 1:
            raise ValueError(f'ATSSAssigner topk={topk} must be >= 1')
        self.topk = topk
        self.min_inside = min_inside

    def assign(self, anchors, num_level_anchors, gt_bboxes, gt_ignore=None):
        return atss_assign(anchors, num_level_anchors, gt_bboxes, gt_ignore,
                           self.topk, self.min_inside)
