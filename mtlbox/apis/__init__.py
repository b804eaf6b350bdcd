"""Inference and deployment: :class:`MTLInferencer` (predictions on your
own images) and the raw-output graph + Python decoding shared with the
ONNX / TorchScript export (``tools/deploy/export_onnx.py``)."""
from .inferencer import (IMAGE_EXTENSIONS, InferenceInputError,
                         result_to_json,
                         MTLInferencer, collect_images, dataset_metainfo,
                         inference_pipeline, task_prediction)
from .raw_outputs import (RawOutputModel, decode_raw_outputs, flatten_raw,
                          raw_output_names, replaying, unflatten_raw)

__all__ = ['MTLInferencer', 'InferenceInputError', 'IMAGE_EXTENSIONS',
           'collect_images', 'dataset_metainfo', 'inference_pipeline',
           'task_prediction', 'result_to_json', 'RawOutputModel',
           'decode_raw_outputs', 'flatten_raw', 'unflatten_raw',
           'raw_output_names', 'replaying']
