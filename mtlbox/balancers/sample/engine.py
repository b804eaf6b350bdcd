"""Training step of sample-level balancers (``needs='samples'``)."""


def apply_sample_step(model, balancer, data, task_losses, optim_wrapper):
    """Weigh per-sample, per-task losses and step ``optim_wrapper``.

    ``data`` is the preprocessed batch (``inputs``, ``data_samples``);
    ``task_losses`` the batch-mean per-task losses already computed (their
    graph is alive). Returns the total loss that was back-propagated.
    """
    raise NotImplementedError('sample-level balancing is not implemented yet')
