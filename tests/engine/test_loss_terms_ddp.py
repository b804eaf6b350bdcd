"""Each loss term is normalised under data parallelism by its own
avg_factor: a depth head with an L1 term over valid pixels and a per-image
term gives, with 2 gloo processes, the update of one process on the global
batch, although the ranks' valid-pixel and image counts are in different
ratios (the model used to scale every term of a head by its first term's
count)."""
import copy
import os

import torch
import torch.distributed as dist
from torch import nn

from mtlbox.registry import MODELS
from tests.engine.test_distributed import TOLERANCE, _steps, run_ranks

# rank 0: two depth images, the first with its top half invalid (0);
# rank 1: one depth image and one segmentation-only image
LABELS = [[['depth'], ['depth']], [['depth'], ['seg']]]


@MODELS.register_module(force=True)
class _PerImageL1ForTest(nn.Module):
    """Mean over images of each image's mean |d - d*| (no avg_factor: the
    model counts the labelled images)."""

    loss_name = 'loss_image'

    def forward(self, pred, target, per_sample=False):
        per = (pred - target).abs().flatten(1).mean(1)
        return per if per_sample else per.mean()


def _model():
    from tests.models.test_multitask_model import tiny_model
    model = tiny_model(dict(type='EW'), tasks=('seg', 'depth'))
    model.heads['depth'].loss_module = nn.ModuleList([
        MODELS.build(dict(type='DepthL1Loss')),
        MODELS.build(dict(type='_PerImageL1ForTest'))])
    model.grad_engine = 'sequential'
    for m in model.modules():  # BN statistics are per process under DDP
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
    return model


def _batch(rank, step):
    from tests.models.test_multitask_model import batch
    data = batch(LABELS[rank], seed=10 * step + rank)
    if rank == 0:
        depth = data['data_samples'][0].gt_depth.data
        depth[:, :depth.shape[1] // 2] = 0
    return data


def _worker(rank, init_file, out_dir):
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)
    import mtlbox
    mtlbox.register_all_modules()
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    from mtlbox.engine import MTLDistributedDataParallel
    model = MTLDistributedDataParallel(_model())
    state = _steps(model.module, [_batch(rank, s) for s in range(2)],
                   clip=dict(max_norm=1.0))
    torch.save(state, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_terms_with_different_divisors_match_one_process(tmp_path):
    run_ranks(_worker, str(tmp_path / 'init'), str(tmp_path))
    batches = []
    for step in range(2):
        parts = [_batch(r, step) for r in range(2)]
        batches.append(dict(
            inputs=parts[0]['inputs'] + parts[1]['inputs'],
            data_samples=parts[0]['data_samples'] +
            parts[1]['data_samples']))
    reference = _steps(_model(), copy.deepcopy(batches),
                       clip=dict(max_norm=1.0))
    for rank in range(2):
        state = torch.load(tmp_path / f'rank{rank}.pth')
        for key, value in reference.items():
            torch.testing.assert_close(state[key], value, **TOLERANCE,
                                       msg=f'rank {rank}: {key}')
