"""Export a trained model's network to ONNX (and TorchScript):
``python tools/deploy/export_onnx.py CONFIG CKPT --out model.onnx``.

One graph, input ``inputs`` [B, 3, H, W] (the data preprocessor's output:
RGB, ``(x - mean) / std``, padded to ``pad_size_divisor``), outputs the
heads' raw tensors by name (``seg``, ``depth``, ``det.cls.0`` ...), batch,
height and width dynamic. Decoding (box decode + NMS, resize, argmax) stays
in Python: ``mtlbox.apis.decode_raw_outputs``; docs/inference.md#export.
After writing, the file is run in onnxruntime on the example batch and the
largest absolute difference from PyTorch is printed per output.
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export an mtlbox model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument('--torchscript', metavar='FILE',
                        help='also write a traced TorchScript module here')
    parser.add_argument('--exporter', choices=['dynamo', 'torchscript'],
                        default='dynamo',
                        help="torch.onnx exporter: 'dynamo' (torch.export, "
                        "symbolic shapes; default) or 'torchscript' (legacy "
                        'tracer, faster, records shape branches)')
    parser.add_argument('--shape', type=int, nargs=2, default=(256, 320),
                        metavar=('H', 'W'),
                        help='example image size traced (any size runs '
                        'later); rounded up to pad_size_divisor')
    parser.add_argument('--batch', type=int, default=2,
                        help='example batch size traced')
    parser.add_argument('--tasks', help='comma-separated tasks to export '
                        '(default: all)')
    parser.add_argument('--opset', type=int, default=None)
    parser.add_argument('--no-check', action='store_true',
                        help='do not compare with onnxruntime')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, as for tools/test.py')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from mtlbox.apis import MTLInferencer
    from mtlbox.apis.export import (export_onnx, export_torchscript,
                                    graph_metadata, max_abs_difference,
                                    size_divisor)
    inferencer = MTLInferencer(args.config, args.checkpoint, device='cpu',
                               tasks=args.tasks,
                               cfg_options=args.cfg_options)
    wrapper = inferencer.network
    div = size_divisor(inferencer.model)
    h, w = (-(-s // div) * div for s in args.shape)
    torch.manual_seed(0)
    inputs = torch.randn(max(args.batch, 1), 3, h, w)
    meta = graph_metadata(wrapper, osp.basename(args.config))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    names = export_onnx(wrapper, inputs, args.out, args.exporter, args.opset,
                        meta)
    print(f'{args.out}: input inputs [batch, 3, height, width], outputs '
          f'{", ".join(names)}')
    if args.torchscript:
        os.makedirs(osp.dirname(osp.abspath(args.torchscript)),
                    exist_ok=True)
        export_torchscript(wrapper, inputs, args.torchscript, meta)
        print(f'{args.torchscript}: TorchScript (traced at {h}x{w})')
    if not args.no_check:
        # another batch and size than the traced one: the axes are dynamic
        check = torch.randn(1, 3, h + div, w + 2 * div)
        diffs = max_abs_difference(args.out, wrapper, check)
        print(f'max |onnxruntime - PyTorch| on a 1x3x{h + div}x{w + 2 * div}'
              ' batch:')
        for name, diff in diffs.items():
            print(f'  {name:<20} {diff:.3g}')


if __name__ == '__main__':
    main()
