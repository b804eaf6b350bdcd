"""Pairwise cosine similarity of task gradients over training.

``tools/analysis/grad_conflict.py CONFIG CKPT [CKPT ...] [--batches 4]
    [--out grad_conflict.png]``

For each checkpoint (e.g. ``WORK_DIR/epoch_*.pth`` in order) the per-task
gradients of the shared parameters are computed on ``--batches`` training
batches with the gradient engine (``mtlbox.balancers.task_grads``), summed
over batches, and their pairwise cosine similarities are reported: a heat map
of the last checkpoint and one curve per task pair across checkpoints.
Negative cosines are conflicts.
"""
import argparse
import itertools
import json
import os.path as osp


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('checkpoints', nargs='+')
    parser.add_argument('--batches', type=int, default=4)
    parser.add_argument('--out', default='grad_conflict.png')
    args = parser.parse_args()
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.config import Config
    from mmengine.runner import Runner

    import mtlbox
    from mtlbox.compat import safe_load
    from mtlbox.engine.hooks.grad_conflict_hook import task_cosines
    from mtlbox.registry import MODELS
    mtlbox.register_all_modules()
    cfg = Config.fromfile(args.config)
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    batches = list(itertools.islice(iter(loader), args.batches))
    model = MODELS.build(cfg.model)
    series = []
    for path in args.checkpoints:
        state = safe_load(path, map_location='cpu')
        model.load_state_dict(state.get('state_dict', state), strict=False)
        cos = task_cosines(model, [dict(b) for b in batches])
        series.append(cos)
        print(osp.basename(path), json.dumps(
            {f'{a}~{b}': round(float(cos[i, j]), 4)
             for (i, a), (j, b) in itertools.combinations(
                 enumerate(model.tasks), 2)}))
    tasks = model.tasks
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    im = axes[0].imshow(series[-1].numpy(), vmin=-1, vmax=1, cmap='coolwarm')
    axes[0].set_xticks(range(len(tasks)), tasks)
    axes[0].set_yticks(range(len(tasks)), tasks)
    for i, j in itertools.product(range(len(tasks)), repeat=2):
        axes[0].text(j, i, f'{series[-1][i, j]:.2f}', ha='center',
                     va='center', fontsize=8)
    axes[0].set_title(f'cosine, {osp.basename(args.checkpoints[-1])}')
    fig.colorbar(im, ax=axes[0])
    for i, j in itertools.combinations(range(len(tasks)), 2):
        axes[1].plot([float(c[i, j]) for c in series], marker='o',
                     label=f'{tasks[i]} ~ {tasks[j]}')
    axes[1].axhline(0, color='grey', lw=0.5)
    axes[1].set_xlabel('checkpoint')
    axes[1].set_ylabel('cosine similarity')
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
