"""Single-stage anchor-based detection head with ATSS assignment."""
import math
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor, nn
from torchvision.ops import batched_nms

from mtlbox.registry import MODELS
from ..losses.utils import HeadLosses
from ..task_modules import AnchorGenerator, SSDBoxCoder, atss_assign
from .base_dense_head import select_labeled
from .layers import MBConv, conv_bn_act


def paired_iou(a: Tensor, b: Tensor) -> Tensor:
    """IoU of ``a[i]`` with ``b[i]``: [N, 4] xyxy, [N, 4] -> [N]."""
    lt = torch.maximum(a[:, :2], b[:, :2])
    rb = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(dim=1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(dim=1)
    return inter / (area_a + area_b - inter).clamp(min=1e-6)


def atss_det_loss(cls_logits: Tensor,
                  deltas: Tensor,
                  anchors: Tensor,
                  num_level_anchors: Sequence[int],
                  gt_bboxes: Sequence[Tensor],
                  gt_labels: Sequence[Tensor],
                  gt_ignores: Sequence[Optional[Tensor]],
                  coder: SSDBoxCoder,
                  loss_cls: nn.Module,
                  loss_bbox: nn.Module,
                  topk: int = 9,
                  centerness: Optional[Tensor] = None,
                  hard_targets: bool = False) -> Dict[str, Tensor]:
    """Detection loss of a batch of labelled images.

    For image ``i``: ATSS assigns the anchors (:func:`atss_assign`); the
    predicted boxes of positives are decoded (SSD coder); the class target
    is the IoU of the decoded box with its ground truth (detached) at the
    box's class, 0 elsewhere; ignored anchors (positive only for
    "difficult" boxes) are left out of the classification loss. Both terms
    are summed over the batch and divided by the number of positives of the
    batch (at least 1, each term's ``avg_factor``): ``loss_cls`` =
    IoU-aware focal, ``loss_bbox`` = CIoU x weight.

    With ``hard_targets`` the class target of a positive is 1 (focal loss,
    as the ATSS paper) instead of the IoU. With ``centerness`` logits [B, N]
    (the ATSS/FCOS quality branch) a third term ``loss_centerness`` is the
    binary cross-entropy of the positives' logits against the centre-ness
    of their anchor centre in the matched box, ``sqrt(min(l, r) / max(l, r)
    * min(t, b) / max(t, b))``, over the number of positives.

    Shapes: cls_logits [B, N, C], deltas [B, N, 4], anchors [N, 4] (levels
    concatenated), gt_* lists of B tensors ([G, 4], [G], [G] bool / None).
    """
    num_images, num_anchors, num_classes = cls_logits.shape
    targets = cls_logits.new_zeros(num_images, num_anchors, num_classes)
    pos_mask = torch.zeros_like(targets, dtype=torch.bool)
    valid = torch.ones(num_images, num_anchors, dtype=torch.bool,
                       device=cls_logits.device)
    pred_boxes, gt_boxes_pos, ctr_logits, ctr_targets = [], [], [], []
    for i in range(num_images):
        boxes = gt_bboxes[i].to(anchors)
        labels = gt_labels[i].to(anchors.device).long()
        if labels.numel() and (labels.min() < 0
                               or labels.max() >= num_classes):
            raise ValueError(f'gt label {labels.tolist()} out of range for '
                             f'num_classes={num_classes} of the detection '
                             'head; set num_classes to the dataset classes')
        result = atss_assign(anchors, num_level_anchors, boxes, gt_ignores[i],
                             topk)
        valid[i] = result.gt_inds >= 0
        pos = torch.nonzero(result.gt_inds > 0).squeeze(1)
        if pos.numel() == 0:
            continue
        matched = result.gt_inds[pos] - 1
        decoded = coder.decode(anchors[pos], deltas[i, pos])
        target_boxes = boxes[matched]
        if hard_targets:
            target = torch.ones(len(pos), device=anchors.device)
        else:
            target = paired_iou(decoded.detach(), target_boxes).clamp(min=0)
        targets[i, pos, labels[matched]] = target.to(targets.dtype)
        pos_mask[i, pos, labels[matched]] = True
        pred_boxes.append(decoded)
        gt_boxes_pos.append(target_boxes)
        if centerness is not None:
            ctr_logits.append(centerness[i, pos])
            ctr_targets.append(centerness_target(anchors[pos], target_boxes))
    num_pos = sum(len(b) for b in pred_boxes)
    avg = max(float(num_pos), 1.0)
    cls = loss_cls(cls_logits.reshape(-1, num_classes),
                   targets.reshape(-1, num_classes),
                   pos_mask.reshape(-1, num_classes), avg_factor=avg,
                   valid=valid.reshape(-1))
    if num_pos:
        box = loss_bbox(torch.cat(pred_boxes), torch.cat(gt_boxes_pos),
                        avg_factor=avg)
    else:  # keeps the regression branch in the graph with zero gradient
        box = deltas.sum() * 0.0
    # both terms divide by the positives (data parallelism: the global count)
    out = HeadLosses()
    out.add('loss_cls', cls, avg)
    out.add('loss_bbox', box, avg)
    if centerness is not None:
        if num_pos:
            ctr = nn.functional.binary_cross_entropy_with_logits(
                torch.cat(ctr_logits), torch.cat(ctr_targets).to(
                    centerness.dtype), reduction='sum') / avg
        else:
            ctr = centerness.sum() * 0.0
        out.add('loss_centerness', ctr, avg)
    return out


def centerness_target(anchors: Tensor, boxes: Tensor) -> Tensor:
    """FCOS centre-ness of each anchor centre in its box ([N, 4], [N, 4] ->
    [N] in [0, 1]): ``sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b))``
    with ``l, t, r, b`` the distances from the centre to the box sides
    (0 for a centre outside the box)."""
    cx = (anchors[:, 0] + anchors[:, 2]) / 2
    cy = (anchors[:, 1] + anchors[:, 3]) / 2
    lr = torch.stack([cx - boxes[:, 0], boxes[:, 2] - cx], 1).clamp(min=0)
    tb = torch.stack([cy - boxes[:, 1], boxes[:, 3] - cy], 1).clamp(min=0)
    ratio = (lr.min(1).values / lr.max(1).values.clamp(min=1e-6) *
             tb.min(1).values / tb.max(1).values.clamp(min=1e-6))
    return ratio.sqrt()


def postprocess_detections(scores: Tensor,
                           boxes: Tensor,
                           score_thr: float = 0.01,
                           nms_pre: int = 4000,
                           iou_thr: float = 0.5,
                           max_per_class: int = 400,
                           max_per_img: int = 200):
    """Per-image detections from per-anchor class probabilities.

    1. keep (anchor, class) pairs with ``score > score_thr``;
    2. keep the ``nms_pre`` highest;
    3. class-wise NMS at ``iou_thr`` (``torchvision.ops.batched_nms``);
    4. at most ``max_per_class`` per class, then ``max_per_img``, by score.

    Shapes: scores [N, C] in [0, 1], boxes [N, 4] -> (boxes [K, 4],
    scores [K], labels [K]) sorted by decreasing score.
    """
    num_classes = scores.shape[1]
    flat = scores.reshape(-1)
    keep = torch.nonzero(flat > score_thr).squeeze(1)
    kept_scores = flat[keep]
    if kept_scores.numel() > nms_pre:
        kept_scores, order = kept_scores.topk(nms_pre)
        keep = keep[order]
    anchor_idx = keep // num_classes
    labels = keep % num_classes
    cand = boxes[anchor_idx]
    order = batched_nms(cand.float(), kept_scores.float(), labels, iou_thr)
    cand, kept_scores, labels = cand[order], kept_scores[order], labels[order]
    if labels.numel() and max_per_class < labels.numel():
        # rank of each detection within its class (input sorted by score)
        onehot = torch.nn.functional.one_hot(labels, num_classes)
        rank = (onehot.cumsum(0) * onehot).sum(1) - 1
        sel = rank < max_per_class
        cand, kept_scores, labels = cand[sel], kept_scores[sel], labels[sel]
    cand, kept_scores, labels = (cand[:max_per_img], kept_scores[:max_per_img],
                                 labels[:max_per_img])
    return cand, kept_scores, labels


@MODELS.register_module()
class ATSSDetHead(BaseModule):
    """Anchor-based single-stage detector head (AMTL's VMM detector).

    Per level ``l`` (unshared, or shared with ``share_levels``): a class
    branch and a box branch of ``num_convs`` blocks (``3x3 conv-norm-ReLU``,
    norm BN or ``norm_cfg=dict(type='GN', num_groups=G)``, or ``MBConv``
    with ``block='mbconv'``), then ``3x3`` convs to ``A * C`` sigmoid
    logits (bias ``-log((1 - p) / p)``, ``p = prior_prob``) and ``A * 4``
    SSD deltas; with ``centerness`` also ``A`` centre-ness logits from the
    box tower (the quality branch of ATSS and FCOS). Anchors: ``A =
    len(ratios)`` per location, side ``anchor_sizes[l]`` at ``strides[l]``.
    Training: ATSS (``topk`` per level), IoU-aware focal (or focal with
    ``hard_targets``) + CIoU, + centre-ness BCE (:func:`atss_det_loss`).
    Inference: score = class probability (x centre-ness probability with
    ``centerness``), :func:`postprocess_detections`, boxes mapped to the
    original image (clip to ``img_shape``, divide by ``scale_factor``;
    padding is bottom/right so it needs no offset).

    Inputs: list of maps ``[B, in_ch, H_l, W_l]``; ``in_indices`` picks the
    levels (default: all), e.g. ``(1, 2, 3)`` for strides 8/16/32 of a
    4-level FPN. Fills ``pred_instances`` (``bboxes`` [K, 4] xyxy original
    pixels, ``scores`` [K], ``labels`` [K]).

    Loss keys: ``loss_cls``, ``loss_bbox`` (and ``loss_centerness``); only
    samples whose ``labeled_tasks`` contain the task count. Images with no
    box give only negatives.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Union[int, Sequence[int]],
                 feat_channels: int = 64,
                 num_convs: int = 1,
                 block: str = 'conv',
                 norm_cfg: Optional[dict] = None,
                 share_levels: bool = False,
                 in_indices: Optional[Sequence[int]] = None,
                 strides: Sequence[int] = (8, 16, 32),
                 anchor_sizes: Sequence[float] = (32, 64, 128),
                 ratios: Sequence[float] = (1.0, 2.0, 0.5),
                 variances: Sequence[float] = (0.1, 0.2),
                 topk: int = 27,
                 prior_prob: float = 0.01,
                 centerness: bool = False,
                 hard_targets: bool = False,
                 loss_cls: dict = dict(type='IoUAwareFocalLoss', alpha=0.25,
                                       gamma=2.0),
                 loss_bbox: dict = dict(type='CIoULoss', loss_weight=10.0),
                 score_thr: float = 0.01,
                 nms_pre: int = 4000,
                 nms_iou: float = 0.5,
                 max_per_class: int = 400,
                 max_per_img: int = 200,
                 label_key: Optional[str] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1:
            raise ValueError(f'ATSSDetHead num_classes={num_classes} < 1')
        if block not in ('conv', 'mbconv'):
            raise ValueError(f"ATSSDetHead block={block!r}: use 'conv' or "
                             "'mbconv'")
        if block == 'mbconv' and norm_cfg not in (None, dict(type='BN')):
            raise ValueError(f"ATSSDetHead norm_cfg={norm_cfg} needs "
                             "block='conv' (MBConv towers use BN)")
        num_levels = len(strides)
        if isinstance(in_channels, int):
            in_channels = [in_channels] * num_levels
        if len(in_channels) != num_levels:
            raise ValueError(f'ATSSDetHead in_channels={list(in_channels)} '
                             f'has {len(in_channels)} levels but strides='
                             f'{list(strides)} has {num_levels}')
        if in_indices is not None and len(in_indices) != num_levels:
            raise ValueError(f'ATSSDetHead in_indices={list(in_indices)} '
                             f'must pick {num_levels} levels (one per stride)')
        if share_levels and len(set(in_channels)) != 1:
            raise ValueError('ATSSDetHead share_levels=True needs equal '
                             f'in_channels, got {list(in_channels)}')
        self.num_classes = num_classes
        self.in_indices = None if in_indices is None else list(in_indices)
        self.anchor_generator = AnchorGenerator(strides, anchor_sizes, ratios)
        self.coder = SSDBoxCoder(variances)
        self.topk = topk
        self.prior_prob = prior_prob
        self.hard_targets = hard_targets
        self.score_thr, self.nms_pre = score_thr, nms_pre
        self.nms_iou = nms_iou
        self.max_per_class, self.max_per_img = max_per_class, max_per_img
        self.label_key = label_key
        self.task = None  # set by MultiTaskModel
        A = self.anchor_generator.num_anchors

        def branch(in_ch, out_ch, bias):
            layers, ch = [], in_ch
            for _ in range(num_convs):
                # towers end normalised (BN), as mmdet's conv-norm-act
                # ones: a residual MBConv would hand the neck's unnormalised
                # sums straight to the prediction conv (see the class doc)
                layers.append(conv_bn_act(ch, feat_channels,
                                          norm_cfg=norm_cfg) if block ==
                              'conv' else MBConv(ch, feat_channels,
                                                 residual=False))
                ch = feat_channels
            out = nn.Conv2d(ch, out_ch, 3, padding=1)
            nn.init.normal_(out.weight, std=0.01)
            nn.init.constant_(out.bias, bias)
            return nn.Sequential(*layers, out)

        bias = -math.log((1 - prior_prob) / prior_prob)
        levels = 1 if share_levels else num_levels
        self.cls_branches = nn.ModuleList(
            branch(in_channels[i], A * num_classes, bias)
            for i in range(levels))
        self.reg_branches = nn.ModuleList(
            branch(in_channels[i], A * 4, 0.0) for i in range(levels))
        # quality branch on the box tower (ATSS/FCOS centre-ness)
        self.ctr_convs = None
        if centerness:
            self.ctr_convs = nn.ModuleList()
            for i in range(levels):
                ch = feat_channels if num_convs else in_channels[i]
                conv = nn.Conv2d(ch, A, 3, padding=1)
                nn.init.normal_(conv.weight, std=0.01)
                nn.init.constant_(conv.bias, 0.0)
                self.ctr_convs.append(conv)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)

    @property
    def key(self) -> str:
        return self.label_key or self.task

    # ------------------------------------------------------------ forward
    def _levels(self, feats: List[Tensor]) -> List[Tensor]:
        feats = list(feats)
        if self.in_indices is not None:
            if max(self.in_indices) >= len(feats):
                raise ValueError(f'ATSSDetHead in_indices={self.in_indices} '
                                 f'but only {len(feats)} feature maps')
            feats = [feats[i] for i in self.in_indices]
        if len(feats) != self.anchor_generator.num_levels:
            raise ValueError(
                f'ATSSDetHead of task {self.task!r} got {len(feats)} feature '
                f'maps for strides {self.anchor_generator.strides}; set '
                'in_indices to pick the levels (e.g. (1, 2, 3) for strides '
                '8/16/32 of a 4-level FPN) or give one stride per level')
        return feats

    def forward(self, feats: List[Tensor]):
        """Per-level ``cls [B, A*C, H, W]`` and ``deltas [B, A*4, H, W]``,
        and with ``centerness`` a third list ``ctr [B, A, H, W]``
        (:attr:`raw_output_names`)."""
        feats = self._levels(feats)
        cls, reg, ctr = [], [], []
        for i, x in enumerate(feats):
            j = 0 if len(self.cls_branches) == 1 else i
            cls.append(self.cls_branches[j](x))
            if self.ctr_convs is None:
                reg.append(self.reg_branches[j](x))
                continue
            tower = self.reg_branches[j][:-1](x)
            reg.append(self.reg_branches[j][-1](tower))
            ctr.append(self.ctr_convs[j](tower))
        return (cls, reg) if self.ctr_convs is None else (cls, reg, ctr)

    @property
    def raw_output_names(self):
        """Names of the members of :meth:`forward`'s output (deployment)."""
        return ('cls', 'reg') if self.ctr_convs is None else \
            ('cls', 'reg', 'ctr')

    def _flatten(self, cls, reg, ctr=None):
        B = cls[0].shape[0]
        cls_flat = torch.cat([c.permute(0, 2, 3, 1).reshape(
            B, -1, self.num_classes) for c in cls], dim=1)
        reg_flat = torch.cat(
            [r.permute(0, 2, 3, 1).reshape(B, -1, 4) for r in reg], dim=1)
        ctr_flat = None if ctr is None else torch.cat(
            [c.permute(0, 2, 3, 1).reshape(B, -1) for c in ctr], dim=1)
        anchors = self.anchor_generator([c.shape[-2:] for c in cls],
                                        cls[0].device)
        return cls_flat, reg_flat, ctr_flat, anchors

    # --------------------------------------------------------------- loss
    def loss(self, feats, data_samples) -> Dict[str, Tensor]:
        idx = select_labeled(data_samples, self.key)
        if not idx:
            return {}
        cls_flat, reg_flat, ctr_flat, anchors = self._flatten(*self(feats))
        gts = [data_samples[i].gt_instances for i in idx]
        ignores = [g.ignore_flags if 'ignore_flags' in g else None
                   for g in gts]
        return atss_det_loss(
            cls_flat[idx], reg_flat[idx], torch.cat(anchors),
            [len(a) for a in anchors], [g.bboxes for g in gts],
            [g.labels for g in gts], ignores, self.coder, self.loss_cls,
            self.loss_bbox, self.topk,
            None if ctr_flat is None else ctr_flat[idx], self.hard_targets)

    def loss_by_sample(self, feats, data_samples):
        """Per-image losses [B] (the sum of the loss terms of each labelled
        image: ``loss_cls + loss_bbox`` [+ ``loss_centerness``], normalised
        by its own number of positives) and the labelled mask [B] (for
        SLGrad)."""
        cls_flat, reg_flat, ctr_flat, anchors = self._flatten(*self(feats))
        num_level = [len(a) for a in anchors]
        anchors = torch.cat(anchors)
        idx = select_labeled(data_samples, self.key)
        per = []
        for i in range(len(data_samples)):
            if i not in idx:
                per.append(cls_flat.new_zeros(()))
                continue
            g = data_samples[i].gt_instances
            out = atss_det_loss(
                cls_flat[i:i + 1], reg_flat[i:i + 1], anchors, num_level,
                [g.bboxes], [g.labels],
                [g.ignore_flags if 'ignore_flags' in g else None],
                self.coder, self.loss_cls, self.loss_bbox, self.topk,
                None if ctr_flat is None else ctr_flat[i:i + 1],
                self.hard_targets)
            per.append(sum(out.values()))
        mask = torch.zeros(len(data_samples), dtype=torch.bool,
                           device=cls_flat.device)
        mask[idx] = True
        return torch.stack(per), mask

    # ------------------------------------------------------------ predict
    @torch.no_grad()
    def predict(self, feats, data_samples) -> None:
        cls_flat, reg_flat, ctr_flat, anchors = self._flatten(*self(feats))
        anchors = torch.cat(anchors)
        scores = cls_flat.sigmoid()
        if ctr_flat is not None:  # class probability x centre-ness
            scores = scores * ctr_flat.sigmoid().unsqueeze(-1)
        for i, sample in enumerate(data_samples):
            boxes = self.coder.decode(anchors, reg_flat[i])
            meta = sample.metainfo
            h, w = meta.get('img_shape', meta['batch_input_shape'])[:2]
            boxes, s, labels = postprocess_detections(
                scores[i], boxes, self.score_thr, self.nms_pre, self.nms_iou,
                self.max_per_class, self.max_per_img)
            boxes = rescale_boxes(boxes, (h, w), sample.metainfo)
            result = InstanceData()
            result.bboxes, result.scores, result.labels = boxes, s, labels
            sample.pred_instances = result


def rescale_boxes(boxes: Tensor, img_shape, metainfo: dict) -> Tensor:
    """Boxes on the resized (unpadded) input -> original image pixels:
    clip to ``img_shape``, mirror back when the sample was flipped
    (``x1 = w - x2'``), divide by ``scale_factor`` ``(w, h)`` (or one
    number), clip to ``ori_shape``."""
    h, w = img_shape
    boxes = boxes.clone()
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
    if metainfo.get('flip'):
        boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
    scale = metainfo.get('scale_factor')
    if scale is not None:
        if isinstance(scale, (int, float)):
            scale = (scale, scale)
        sw, sh = float(scale[0]), float(scale[1])
        boxes = boxes / boxes.new_tensor([sw, sh, sw, sh])
    ori = metainfo.get('ori_shape')
    if ori is not None:
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, ori[1])
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, ori[0])
    return boxes
