"""Output size of a convolution window sweep."""

from __future__ import annotations

from ._checks import as_int, output_size


def conv_output_size(
    size: int, kernel_size: int, *, stride: int = 1, padding: int = 0,
    dilation: int = 1,
) -> int:
    """Return the number of window positions along one axis.

    The formula is PyTorch's,
    ``floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``,
    with ``padding`` added on *each* side (cs231n's ``pad``) and
    ``dilation=1`` meaning no gaps.

    Parameters
    ----------
    size : int
        Length of the input along the axis, before padding. Every argument
        takes what ``operator.index`` takes (int, NumPy integers), not bool.
    kernel_size : int
        Number of kernel taps along the axis.
    stride : int, optional
        Step between window positions, at least 1.
    padding : int, optional
        Zeros added on each side, at least 0.
    dilation : int, optional
        Step between kernel taps, at least 1 (1 means a dense kernel).

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    ValueError
        If an argument is out of range, or the (dilated) kernel is longer
        than the padded input.
    TypeError
        If an argument is not an int.

    Examples
    --------
    >>> from im2col import conv_output_size
    >>> conv_output_size(32, 3, stride=1, padding=1)
    32
    >>> conv_output_size(31, 3, stride=2, padding=1)
    16
    >>> conv_output_size(7, 3, dilation=2)
    3
    >>> conv_output_size(2, 5)
    Traceback (most recent call last):
    ...
    ValueError: kernel_size spans 5 elements (kernel 5, dilation 1), larger than the padded input 2 (size 2 + padding 0 + 0)
    """
    n = as_int(size, "size", minimum=1)
    k = as_int(kernel_size, "kernel_size", minimum=1)
    s = as_int(stride, "stride", minimum=1)
    p = as_int(padding, "padding", minimum=0)
    d = as_int(dilation, "dilation", minimum=1)
    return output_size(n, k, s, (p, p), d, "")
