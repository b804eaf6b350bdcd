"""Write a tiny valid copy of a dataset layout (for tests and docs).

Usage::

    python tools/data/make_fixture.py voc /tmp/voc          # one layout
    python tools/data/make_fixture.py all /tmp/fixtures     # every layout,
                                                            # one folder each
    python tools/data/make_fixture.py --list

The layouts are described in docs/datasets.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mtlbox.datasets.fixtures import FIXTURES, write_fixture  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('format', nargs='?',
                        help=f'one of {sorted(FIXTURES)} or "all"')
    parser.add_argument('dir', nargs='?', help='output folder')
    parser.add_argument('--list', action='store_true',
                        help='list the formats and exit')
    args = parser.parse_args(argv)
    if args.list or not args.format:
        for name, fn in sorted(FIXTURES.items()):
            print(f'{name:16s} {(fn.__doc__ or "").strip().splitlines()[0]}')
        return 0
    if not args.dir:
        parser.error('give the output folder DIR')
    if args.format != 'all' and args.format not in FIXTURES:
        parser.error(f'unknown format {args.format!r}; known: '
                     f'{sorted(FIXTURES)} or all')
    names = sorted(FIXTURES) if args.format == 'all' else [args.format]
    for name in names:
        out = osp.join(args.dir, name) if args.format == 'all' else args.dir
        truth = write_fixture(name, out)
        print(f'{name}: wrote {truth.get("data_root", out)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
