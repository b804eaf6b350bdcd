"""Office-Home and Office-31: domains as tasks (image classification).

Layout::

    <domain>/<class>/<image>.jpg
    data_txt/<domain>_<split>.txt     "<path relative to data_root> <label>"

(the list files are the ones a user provides, as LibMTL's ``data_txt``).

Task mapping: every domain is one task, named by the domain (``Art``,
``Clipart``, ``Product``, ``Real_World``; ``amazon``, ``dslr``, ``webcam``),
and a sample is labelled only for the task of its own domain:
``labeled_tasks=[<domain>]``, ``gt_label`` = the class index (a length-1
vector), ``source`` = the domain, meta ``task_name`` = the domain and
``task_names`` = all domains of the dataset; the dataset hands
``task_map={<domain>: 'cls', ...}`` to ``PackMTLInputs`` with each sample,
so the label is packed as ``gt_label`` with no per-dataset packing config.
Give the model one ``ClsHead`` per domain, keyed by the domain name.
``label_task='cls'`` restores the former ``labeled_tasks=['cls']`` for
every sample.
"""
from typing import Dict, List, Optional, Sequence

from mtlbox.registry import DATASETS

from .base import MTLBaseDataset

OFFICE_HOME_DOMAINS = ('Art', 'Clipart', 'Product', 'Real_World')
OFFICE_HOME_CLASSES = (
    'Alarm_Clock', 'Backpack', 'Batteries', 'Bed', 'Bike', 'Bottle', 'Bucket',
    'Calculator', 'Calendar', 'Candles', 'Chair', 'Clipboards', 'Computer',
    'Couch', 'Curtains', 'Desk_Lamp', 'Drill', 'Eraser', 'Exit_Sign', 'Fan',
    'File_Cabinet', 'Flipflops', 'Flowers', 'Folder', 'Fork', 'Glasses',
    'Hammer', 'Helmet', 'Kettle', 'Keyboard', 'Knives', 'Lamp_Shade',
    'Laptop', 'Marker', 'Monitor', 'Mop', 'Mouse', 'Mug', 'Notebook', 'Oven',
    'Pan', 'Paper_Clip', 'Pen', 'Pencil', 'Postit_Notes', 'Printer',
    'Push_Pin', 'Radio', 'Refrigerator', 'Ruler', 'Scissors', 'Screwdriver',
    'Shelf', 'Sink', 'Sneakers', 'Soda', 'Speaker', 'Spoon', 'TV', 'Table',
    'Telephone', 'ToothBrush', 'Toys', 'Trash_Can', 'Webcam')
OFFICE31_DOMAINS = ('amazon', 'dslr', 'webcam')
OFFICE31_CLASSES = (
    'back_pack', 'bike', 'bike_helmet', 'bookcase', 'bottle', 'calculator',
    'desk_chair', 'desk_lamp', 'desktop_computer', 'file_cabinet',
    'headphones', 'keyboard', 'laptop_computer', 'letter_tray',
    'mobile_phone', 'monitor', 'mouse', 'mug', 'paper_notebook', 'pen',
    'phone', 'printer', 'projector', 'punchers', 'ring_binder', 'ruler',
    'scissors', 'speaker', 'stapler', 'tape_dispenser', 'trash_can')


@DATASETS.register_module()
class OfficeDataset(MTLBaseDataset):
    """Domains-as-tasks classification (module docstring).

    Args:
        domains: domains to load (each a task); default all of the dataset.
        split: list-file split (``train``, ``val``, ``test``).
        list_files: optional ``{domain: list path relative to data_root}``
            overriding ``data_txt/<domain>_<split>.txt``.
        label_task: ``None`` (default): ``labeled_tasks=[<domain>]``; a name
            (e.g. ``'cls'``): that name for every sample (one shared task).
    """

    DOMAINS: Sequence[str] = ()
    METAINFO = dict(classes=())
    LAYOUT = 'office'

    def __init__(self, data_root: str = '',
                 domains: Optional[Sequence[str]] = None, split='train',
                 list_files: Optional[Dict[str, str]] = None,
                 label_task: Optional[str] = None, **kwargs):
        self.domains = tuple(domains or self.DOMAINS)
        if not self.domains:
            raise ValueError(f'{type(self).__name__}: give domains=[...]')
        self.split = split
        self.list_files = dict(list_files or {})
        self.label_task = label_task
        #: how PackMTLInputs packs each task's label (a domain is a 'cls')
        self.task_map = {} if label_task else {d: 'cls' for d in self.domains}
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        n_classes = len(self.metainfo.get('classes') or ()) or None
        infos = []
        for domain in self.domains:
            rel = self.list_files.get(domain,
                                      f'data_txt/{domain}_{self.split}.txt')
            path = self.path(rel)
            for n, line in enumerate(self.read_list(path), 1):
                parts = line.rsplit(maxsplit=1)
                try:
                    label = int(parts[1])
                    if n_classes and not 0 <= label < n_classes:
                        raise ValueError(f'label {label} not in '
                                         f'[0, {n_classes})')
                except (IndexError, ValueError) as err:
                    self.invalid(f'{path} line {n}: expected "<path> '
                                 f'<label>", got {line!r} ({err})')
                    continue
                infos.append(dict(
                    img_path=self.path(parts[0].lstrip('/')),
                    gt_label=[label],
                    labeled_tasks=[self.label_task or domain], source=domain,
                    task_name=domain, task_names=self.domains))
        return infos


@DATASETS.register_module()
class OfficeHomeDataset(OfficeDataset):
    """Office-Home: 4 domains x 65 classes."""
    DOMAINS = OFFICE_HOME_DOMAINS
    METAINFO = dict(classes=OFFICE_HOME_CLASSES)
    LAYOUT = 'office'
    FIXTURE = 'office_home'
    SOURCE = 'Office-Home'


@DATASETS.register_module()
class Office31Dataset(OfficeDataset):
    """Office-31: 3 domains x 31 classes."""
    DOMAINS = OFFICE31_DOMAINS
    METAINFO = dict(classes=OFFICE31_CLASSES)
    LAYOUT = 'office'
    FIXTURE = 'office31'
    SOURCE = 'Office-31'
