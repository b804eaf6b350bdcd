import torch

from mtlbox.models.backbones import ImageInput


def test_image_input_passes_the_image():
    x = torch.randn(2, 3, 9, 7)
    model = ImageInput()
    out = model(x)
    assert model.out_channels == [3] and len(out) == 1 and out[0] is x
    assert not list(model.parameters())
