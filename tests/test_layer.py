"""Layer and Plan: the shares and units a plan cuts the images into."""

from __future__ import annotations

import numpy as np

from im2col._layer import Plan, layer_of


def test_shares_cover_every_image_once() -> None:
    g = layer_of(np.zeros((11, 2, 6, 6)), np.zeros((3, 2, 3, 3)), stride=1,
                 padding=1, dilation=1, groups=1).g
    for workers in range(1, 14):
        for images in range(1, 12):
            # Plan's workers as the planner makes them: one per share of units
            p = Plan("im2col", images, 6, min(workers, -(-11 // images)))
            shares = p.shares(g)
            assert len(shares) == p.workers
            assert shares[0][0] == 0
            assert shares[-1][1] == 11
            assert all(shares[k][1] == shares[k + 1][0]
                       for k in range(len(shares) - 1))
            # as even as whole images allow
            sizes = [hi - lo for lo, hi in shares]
            assert max(sizes) - min(sizes) <= 1


def test_shares_are_even_whatever_the_units() -> None:
    """S1's 50 images in units of 10 on two workers: 25 each, not 30 and 20."""
    g = layer_of(np.zeros((50, 3, 32, 32)), np.zeros((32, 3, 7, 7)), stride=1,
                 padding=3, dilation=1, groups=1).g
    p = Plan("rows", 10, 32, 2)
    assert p.shares(g) == [(0, 25), (25, 50)]
    assert [u[:2] for u in p.units(g, 25, 50)] == [(25, 35), (35, 45), (45, 50)]


def test_units_cover_a_share_in_order() -> None:
    g = layer_of(np.zeros((5, 1, 7, 4)), np.zeros((1, 1, 3, 3)), stride=1,
                 padding=1, dilation=1, groups=1).g
    units = Plan("im2col", 2, 3).units(g, 1, 5)
    assert units == [(1, 3, 0, 3), (1, 3, 3, 6), (1, 3, 6, 7),
                     (3, 5, 0, 3), (3, 5, 3, 6), (3, 5, 6, 7)]


def test_work_counts_multiply_adds() -> None:
    layer = layer_of(np.zeros((2, 4, 6, 6)), np.zeros((6, 2, 3, 3)), stride=1,
                     padding=0, dilation=1, groups=2)
    # N * F * (C/groups) * kh*kw * oh*ow
    assert layer.work(backward=False) == 2 * 6 * 2 * 9 * 4 * 4
    assert layer.work(backward=True) == 2 * layer.work(backward=False)
