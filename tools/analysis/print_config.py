"""Print the fully resolved config: ``tools/analysis/print_config.py CFG``."""
import argparse

from mmengine.config import Config, DictAction


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides, as for tools/train.py')
    parser.add_argument('--check', action='store_true',
                        help='also check types and task/metric coverage')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.check:
        from mtlbox.utils import check_config_tasks, check_config_types
        check_config_types(cfg)
        check_config_tasks(cfg)
    print(cfg.pretty_text)


if __name__ == '__main__':
    main()
