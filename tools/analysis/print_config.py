"""Print the fully resolved config: ``tools/analysis/print_config.py CFG``."""
import argparse

from mmengine.config import DictAction


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides, as for tools/train.py (a top-level '
                        'variable such as img_scale=(320,320) changes every '
                        'entry built from it)')
    parser.add_argument('--check', action='store_true',
                        help='also check the config as tools/train.py does: '
                        'types, task/metric coverage, labelled tasks, '
                        'learning rate and schedule, --cfg-options keys')
    args = parser.parse_args()
    from mtlbox.utils.config_check import check_config, load_config
    cfg = load_config(args.config, args.cfg_options,
                      check_overrides=args.check)
    if args.check:
        check_config(cfg)
    print(cfg.pretty_text)


if __name__ == '__main__':
    main()
