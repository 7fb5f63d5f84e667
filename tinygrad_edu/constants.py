"""Numerical constants shared by ``Value`` and ``Tensor`` (the ground floor: imports nothing).

Kept here so neither of the two imports the other just for a number.
"""

#: Constants of SELU (Klambauer et al., 2017), as in PyTorch: selu(z) = SCALE * elu(z, ALPHA).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
