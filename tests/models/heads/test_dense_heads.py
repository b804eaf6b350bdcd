"""Dense-head family: decoders, predictors, masking, predictions."""
import pytest
import torch
from mmengine.structures import LabelData, PixelData

from mtlbox.models.heads import (ASPPDecoder, ClsHead, DepthHead, EdgeHead,
                                 EnhanceHead, LightDecoder, NormalHead,
                                 PartsHead, SaliencyHead, SegHead)
from mtlbox.structures import MTLDataSample


def feats(batch=2, ch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, ch, 8, 8, generator=g),
            torch.randn(batch, ch, 4, 4, generator=g),
            torch.randn(batch, ch, 2, 2, generator=g)]


def sample(tasks, shape=(32, 32), **fields):
    s = MTLDataSample(metainfo=dict(labeled_tasks=list(tasks),
                                    img_shape=shape, ori_shape=shape,
                                    batch_input_shape=(32, 32)))
    for name, value in fields.items():
        setattr(s, name, value)
    return s


def test_decoders_shapes():
    aspp = ASPPDecoder([8, 8, 8], channels=16, rates=(1, 2))
    assert aspp(feats()).shape == (2, 16, 2, 2)  # on the last level
    aspp.train()
    assert aspp([f[:1] for f in feats()]).shape == (1, 16, 2, 2)
    light = LightDecoder([8, 8, 8], channels=16)
    assert light(feats()).shape == (2, 16, 8, 8)  # at the first level


def test_vmm_and_deeplab_style_heads():
    vmm = SegHead([8] * 3, num_classes=5,
                  decoder=dict(type='LightDecoder', channels=16),
                  predictor='mbconv')
    assert vmm(feats()).shape == (2, 5, 8, 8)
    deeplab = DepthHead([8], channels=16,
                        decoder=dict(type='ASPPDecoder', channels=16,
                                     rates=(1, 2)))
    assert deeplab([feats()[0]]).shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="predictor='foo'"):
        SegHead([8], num_classes=2, predictor='foo')


def test_dense_losses_mask_unlabelled_samples():
    torch.manual_seed(0)
    head = SegHead([8] * 3, num_classes=3).eval()
    head.task = 'seg'
    g = torch.Generator().manual_seed(1)
    seg = PixelData(data=torch.randint(0, 3, (1, 32, 32), generator=g))
    a = sample(['seg'], gt_sem_seg=seg)
    b = sample(['depth'])
    f = feats()
    both = head.loss(f, [a, b])['loss_ce']
    alone = head.loss([x[:1] for x in f], [a])['loss_ce']
    assert torch.allclose(both, alone)
    assert head.loss(f, [b, b]) == {}
    losses, mask = head.loss_by_sample(f, [a, b])
    assert mask.tolist() == [True, False] and losses[1] == 0
    assert torch.allclose(losses[0], alone)


def test_multiple_losses_and_names():
    head = DepthHead([8] * 3, loss=[dict(type='DepthL1Loss'),
                                    dict(type='SILogLoss')])
    head.task = 'depth'
    d = PixelData(data=torch.rand(1, 32, 32) + 0.5)
    out = head.loss(feats(), [sample(['depth'], gt_depth=d)] * 2)
    assert set(out) == {'loss_l1', 'loss_silog'}
    losses, mask = head.loss_by_sample(feats(),
                                       [sample(['depth'], gt_depth=d)] * 2)
    assert losses.shape == (2, ) and mask.all()


@pytest.mark.parametrize('residual', [True, False])
def test_enhance_head_ignores_padding_and_predicts_rgb(residual):
    head = EnhanceHead([8] * 3, residual=residual,
                       loss=[dict(type='PixelL1Loss'),
                             dict(type='SSIMLoss')]).eval()
    head.task = 'enhance'
    if residual:  # start away from the identity so the output varies
        torch.nn.init.normal_(head.predictor.weight, std=0.5)
    clean = torch.rand(3, 32, 32)
    padded = clean.clone()
    padded[:, 24:] = 0  # padding rows of a 24x32 image
    s1 = sample(['enhance'], shape=(24, 32), gt_clean_img=PixelData(
        data=padded))
    s2 = sample(['enhance'], shape=(24, 32), gt_clean_img=PixelData(
        data=clean))
    f = [x[:1] for x in feats()]
    kw = dict(inputs=torch.rand(1, 3, 32, 32)) if residual else {}
    l1 = head.loss(f, [s1], **kw)
    l2 = head.loss(f, [s2], **kw)
    assert torch.allclose(l1['loss_l1'], l2['loss_l1'])  # padding unseen
    head.predict(f, [s1], **kw)
    out = s1.pred_clean_img.data
    assert out.shape == (3, 24, 32) and out.min() >= 0 and out.max() <= 1


def test_enhance_head_is_a_residual_over_the_input():
    """Untrained (zero last conv), the residual head returns its input; its
    L1 loss is then exactly mean |input - target|, and a known output r
    gives input + r."""
    head = EnhanceHead([8] * 3).eval()
    head.task = 'enhance'
    x = torch.rand(1, 3, 32, 32)
    target = torch.rand(3, 32, 32)
    s = sample(['enhance'], gt_clean_img=PixelData(data=target))
    f = [t[:1] for t in feats()]
    head.predict(f, [s], inputs=x)
    assert torch.equal(s.pred_clean_img.data, x[0])
    loss = head.loss(f, [s], inputs=x)['loss_l1']
    assert torch.allclose(loss, (x[0] - target).abs().mean())
    torch.nn.init.constant_(head.predictor.bias, 0.25)
    head.predict(f, [s], inputs=x)
    assert torch.allclose(s.pred_clean_img.data, (x[0] + 0.25).clamp(0, 1))
    with pytest.raises(ValueError, match='inputs='):
        head.loss(f, [s])


def test_binary_and_parts_heads_fill_their_fields():
    samples = [sample([]), sample([])]
    for head_type, field, ch in ((SaliencyHead, 'pred_saliency', 1),
                                 (EdgeHead, 'pred_edge', 1),
                                 (PartsHead, 'pred_parts', 1),
                                 (NormalHead, 'pred_normal', 3)):
        head = head_type([8] * 3).eval()
        head.predict(feats(), samples)
        assert getattr(samples[0], field).data.shape == (ch, 32, 32)
    edge = EdgeHead([8] * 3)
    edge.task = 'edge'
    gt = torch.zeros(1, 32, 32, dtype=torch.long)
    gt[0, :, 5] = 1
    loss = edge.loss(feats(), [sample(['edge'], gt_edge=PixelData(data=gt))
                               ] * 2)
    assert set(loss) == {'loss_bce'} and torch.isfinite(loss['loss_bce'])


def test_cls_head_single_and_multi_label():
    head = ClsHead([8] * 3, num_classes=4).eval()
    head.task = 'cls'
    a = sample(['cls'], gt_label=LabelData(label=torch.tensor([2])))
    b = sample(['seg'])
    both = head.loss(feats(), [a, b])['loss_ce']
    logits = head(feats())[:1]
    assert torch.allclose(both, torch.nn.functional.cross_entropy(
        logits, torch.tensor([2])))
    head.predict(feats(), [a, b])
    assert a.pred_label.label.shape == (1, )
    assert a.pred_label.score.sum().item() == pytest.approx(1.0)
    ml = ClsHead([8] * 3, num_classes=4, multi_label=True).eval()
    ml.task = 'cls'
    c = sample(['cls'], gt_label=LabelData(label=torch.tensor([0, 3])))
    loss = ml.loss(feats(), [c, b])['loss_bce']
    target = torch.tensor([[1., 0., 0., 1.]])
    assert torch.allclose(loss, torch.nn.functional.
                          binary_cross_entropy_with_logits(
                              ml(feats())[:1], target))
    with pytest.raises(ValueError, match='multi_label=True'):
        head.loss(feats(), [c, b])
