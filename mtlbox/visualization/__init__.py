from .colormaps import (colorize_labels, colorize_normals, colorize_scalar,
                        to_uint8_rgb)
from .mtl_visualizer import MTLVisualizer
from .vis_hook import MTLVisualizationHook

__all__ = ['MTLVisualizer', 'MTLVisualizationHook', 'colorize_labels',
           'colorize_scalar', 'colorize_normals', 'to_uint8_rgb']
