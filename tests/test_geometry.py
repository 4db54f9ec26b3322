"""Geometry: a tap's slices, of the whole padded input or of a band of rows."""

from __future__ import annotations

import numpy as np

from im2col._geometry import geometry
from tests import reference as ref


def test_tap_slices_of_a_band_read_what_the_windows_read() -> None:
    """For output rows ``[y0, y0 + r)``, tap ``(i, j)`` of the band starting
    at padded row ``y0*sh`` reads the elements the loop reference's windows
    read: element ``(i, j)`` of every window of those rows."""
    shape, kernel, stride, padding, dilation = (1, 1, 13, 11), (3, 2), (2, 3), 1, (2, 1)
    g = geometry(shape, kernel, stride=stride, padding=padding, dilation=dilation)
    r = ref.Geometry(shape, kernel, stride, padding, dilation)
    xp = ref.pad(np.arange(13.0 * 11).reshape(shape), r.padding)
    for y0 in range(r.oh):
        for rows in range(1, r.oh - y0 + 1):
            band = xp[:, :, y0 * r.sh : y0 * r.sh + g.band_height(rows)]
            assert band.shape[2] == g.band_height(rows)  # the band is all there
            for i in range(r.kh):
                for j in range(r.kw):
                    ys, xs = g.tap_slices(i, j, rows)
                    want = [[xp[0, 0, r.window(y, x)[0], r.window(y, x)[1]][i, j]
                             for x in range(r.ow)] for y in range(y0, y0 + rows)]
                    np.testing.assert_array_equal(band[0, 0, ys, xs], want)
    assert g.tap_slices(1, 1) == g.tap_slices(1, 1, r.oh)


def test_input_rows_are_the_unpadded_rows_of_a_band() -> None:
    g = geometry((1, 1, 5, 5), 3, stride=1, padding=(2, 0), dilation=1)
    assert g.input_rows(0, 9) == (2, 7)
    assert g.input_rows(0, 2) == (2, 2)      # only the top padding: empty
    assert g.input_rows(3, 5) == (3, 5)
