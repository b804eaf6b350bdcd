import numpy as np
import pytest
from dataset_helpers import LOAD, PACK

from mtlbox.datasets import (CIFAR10MTDataset, CorruptSampleError,
                             DatasetLayoutError, MultiMNISTDataset,
                             Office31Dataset, OfficeHomeDataset,
                             PascalContextMTDataset, ToyRegressionDataset)
from mtlbox.datasets.cifar_mt import CIFAR_CLASSES, flip_labels
from mtlbox.datasets.multi_mnist import compose_pair, read_idx
from mtlbox.datasets.toy_regression import toy_regression


def pack(tasks):
    """PackMTLInputs mapping every task name in ``tasks`` to 'cls'."""
    return dict(PACK, task_map={t: 'cls' for t in tasks})


def test_pascal_context_all_tasks(make):
    t = make('pascal_context')
    ds = PascalContextMTDataset(data_root=t['data_root'],
                                pipeline=LOAD + [PACK])
    assert len(ds) == 2
    s0, s1 = ds[0]['data_samples'], ds[1]['data_samples']
    t0 = t['samples']['2008_000002']
    assert s0.labeled_tasks == ['seg', 'parts', 'saliency', 'normal', 'edge']
    assert s1.labeled_tasks == ['seg', 'saliency', 'normal', 'edge']
    assert 'gt_parts' not in s1
    np.testing.assert_array_equal(s0.gt_sem_seg.data[0].numpy(), t0['semseg'])
    np.testing.assert_array_equal(s0.gt_parts.data[0].numpy(), t0['parts'])
    np.testing.assert_array_equal(s0.gt_saliency.data[0].numpy(),
                                  t0['saliency'])
    np.testing.assert_array_equal(s0.gt_edge.data[0].numpy(), t0['edge'])
    n = s0.gt_normal.data.permute(1, 2, 0).numpy()
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1, atol=1e-5)
    assert ds.metainfo['parts_classes'][0] == 'background'


@pytest.mark.parametrize('name,cls,domains', [
    ('office_home', OfficeHomeDataset, 4), ('office31', Office31Dataset, 3)])
def test_office_domains_as_tasks(make, name, cls, domains):
    t = make(name)
    ds = cls(data_root=t['data_root'], pipeline=LOAD + [pack(cls.DOMAINS)])
    assert len(ds) == 2 * domains
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        rel, label = t['lists'][s.source][i % 2]
        assert s.img_path.endswith(rel)
        assert s.gt_label.label.tolist() == [label]
        assert s.labeled_tasks == [s.source] and s.task_name == s.source
        assert s.task_names == cls.DOMAINS
    one = cls(data_root=t['data_root'], domains=[cls.DOMAINS[1]],
              split='test')
    assert len(one) == 1


def test_office_bad_line(make, tmp_path):
    t = make('office31')
    (tmp_path / 'office31' / 'data_txt' / 'dslr_train.txt').write_text(
        'dslr/x.jpg\n')
    with pytest.raises(CorruptSampleError, match=r'dslr_train.txt line 1'):
        Office31Dataset(data_root=t['data_root'])
    assert len(Office31Dataset(data_root=t['data_root'],
                               skip_invalid=True)) == 4


def test_multi_mnist_composition_by_hand():
    left = np.zeros((28, 28), np.uint8)
    right = np.zeros((28, 28), np.uint8)
    left[:, :] = 10
    right[:, :] = 7
    right[0, 0] = 200  # lands at canvas (6, 6)
    canvas, small = compose_pair(left, right)
    assert canvas.shape == (36, 36) and small.shape == (28, 28)
    assert canvas[0, 0] == 10 and canvas[5, 30] == 0  # left only / empty
    assert canvas[6, 6] == 200  # overlap: max(10, 200)
    assert canvas[10, 10] == 10  # overlap: max(10, 7)
    assert canvas[30, 30] == 7 and canvas[33, 33] == 7  # right only
    assert canvas[34, 34] == 0 and canvas[35, 35] == 0  # 6 + 28 = 34
    assert canvas[0, 35] == 0 and canvas[35, 0] == 0
    # area resize: each output pixel averages 36/28 input pixels; a constant
    # region stays constant
    assert small[2, 2] == 10 and small[24, 24] == 7  # canvas 30.9..32.1


def test_multi_mnist_idx_files(make):
    t = make('mnist')
    ds = MultiMNISTDataset(data_root=t['data_root'], split='train', seed=0,
                           pipeline=[pack(('left', 'right'))])
    images, labels = t['train']
    assert len(ds) == 6
    perm = np.random.default_rng(0).permutation(6)
    for i in range(6):
        out = ds[i]
        s = out['data_samples']
        assert s.gt_label.label.tolist() == [labels[i], labels[perm[i]]]
        assert s.task_names == ('left', 'right')
        _, want = compose_pair(images[i], images[perm[i]])
        np.testing.assert_array_equal(out['inputs'][0].numpy(), want)
    test = MultiMNISTDataset(data_root=t['data_root'], split='test')
    assert len(test) == 4
    np.testing.assert_array_equal(
        read_idx(t['data_root'] + '/t10k-images-idx3-ubyte'), t['t10k'][0])


def test_multi_mnist_bad_idx(make, tmp_path):
    t = make('mnist')
    (tmp_path / 'mnist' / 't10k-labels-idx1-ubyte').write_bytes(b'\x01\x02')
    with pytest.raises(CorruptSampleError, match='t10k-labels-idx1-ubyte'):
        MultiMNISTDataset(data_root=t['data_root'], split='test')
    with pytest.raises(DatasetLayoutError, match='t10k-images'):
        (tmp_path / 'mnist' / 't10k-images-idx3-ubyte').unlink()
        MultiMNISTDataset(data_root=t['data_root'], split='test')


def test_multi_digits_sklearn():
    pytest.importorskip('sklearn')
    from mtlbox.datasets import MultiDigitsDataset
    ds = MultiDigitsDataset(num_samples=5, pipeline=[pack(('left', 'right'))])
    s = ds[0]['data_samples']
    assert len(s.gt_label.label) == 2


def test_cifar_mt_labels_and_noise(make):
    t = make('cifar10')
    ds = CIFAR10MTDataset(data_root=t['data_root'], split='train',
                          pipeline=[pack(CIFAR_CLASSES)])
    assert len(ds) == 20
    data, labels = t['batches']['data_batch_2']
    out = ds[4 + 1]  # second image of batch 2
    want = data[1].reshape(3, 32, 32).transpose(1, 2, 0)[..., ::-1]
    np.testing.assert_array_equal(out['inputs'].permute(1, 2, 0).numpy(),
                                  want)
    onehot = [int(c == labels[1]) for c in range(10)]
    assert out['data_samples'].gt_label.label.tolist() == onehot
    assert len(CIFAR10MTDataset(data_root=t['data_root'],
                                split='test')) == 4
    noisy = CIFAR10MTDataset(data_root=t['data_root'], noise_p=0.5, seed=1,
                             noisy_tasks='main', main_task=3)
    for i in range(len(noisy)):
        info = noisy.get_data_info(i)
        changed = np.flatnonzero(info['noisy_mask'])
        assert set(changed) <= {3}
        assert np.array_equal(np.asarray(info['gt_label']) != np.asarray(
            info['clean_label']), info['noisy_mask'])


def test_flip_labels_rates():
    rng = np.random.default_rng(0)
    clean = (rng.random((20000, 10)) < 0.1).astype(int)
    noisy, mask = flip_labels(clean, 0.3, 'uniform', list(range(10)),
                              np.random.default_rng(1))
    assert abs(mask.mean() - 0.3) < 0.01
    noisy, mask = flip_labels(clean, 0.3, 'background', [0],
                              np.random.default_rng(1))
    assert (noisy <= clean).all() and not mask[:, 1:].any()
    pos = clean[:, 0] == 1
    assert abs(mask[pos, 0].mean() - 0.3) < 0.03


def test_toy_regression_formula():
    x, y, base, eps = toy_regression(7, 5, 3, (2.0, 0.5), seed=4,
                                     sample_seed=1)
    # independent recomputation from the same draws
    rng = np.random.default_rng(4)
    b = rng.normal(size=(3, 5))
    e = rng.normal(size=(2, 3, 5)) * np.sqrt(3.5)
    xx = np.random.default_rng([4, 1]).normal(size=(7, 5))
    np.testing.assert_allclose(base, b)
    np.testing.assert_allclose(eps, e)
    for t, s in enumerate((2.0, 0.5)):
        for n in range(7):
            want = np.abs(s * np.tanh((b + e[t]) @ xx[n]))
            np.testing.assert_allclose(y[t, n], want)
    assert (y[0] <= 2.0).all() and (y[1] <= 0.5).all() and (y >= 0).all()


def test_toy_regression_dataset_noise_and_determinism():
    kw = dict(num_samples=40, in_dim=4, out_dim=2, sigmas=(1.0, 3.0),
              noise_p=0.25, noisy_tasks=[1], seed=3,
              pipeline=[dict(type='PackVectorInputs')])
    ds = ToyRegressionDataset(**kw)
    noisy = np.array([ds.get_data_info(i)['noisy'] for i in range(40)])
    assert noisy[:, 0].sum() == 0 and noisy[:, 1].sum() == 10
    ys = np.array([ds.get_data_info(i)['y'] for i in range(40)])
    assert (ys[noisy[:, 1], 1] == -0.5).all()
    assert (ys[~noisy[:, 1], 1] >= 0).all()
    out = ds[3]
    assert out['inputs'].shape == (4, )
    assert out['data_samples'].gt_label.values.shape == (2, 2)
    again = ToyRegressionDataset(**kw)
    np.testing.assert_array_equal(again[3]['inputs'], out['inputs'])
    g = ToyRegressionDataset(**dict(kw, noise_type='gaussian'))
    yg = np.array([g.get_data_info(i)['y'] for i in range(40)])
    assert not (yg[noisy[:, 1], 1] == -0.5).any()


def test_sample_range_past_the_split_is_an_error(make):
    """A held-out range (e.g. SLGrad's (45000, 50000)) on a smaller split
    gave an empty dataset and a ZeroDivisionError in the sampler."""
    t = make('cifar10')
    with pytest.raises(ValueError, match=r'sample_range=\(45000, 50000\).*'
                       '20 samples'):
        CIFAR10MTDataset(data_root=t['data_root'], split='train',
                         sample_range=(45000, 50000)).full_init()
    cut = CIFAR10MTDataset(data_root=t['data_root'], split='train',
                           sample_range=(15, 50))
    assert len(cut) == 5
    m = make('mnist')
    with pytest.raises(ValueError, match='sample_range'):
        len(MultiMNISTDataset(data_root=m['data_root'],
                              sample_range=(10 ** 6, 10 ** 6 + 5)))
