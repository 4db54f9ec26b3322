"""The planner's thresholds, each beside the measurement it rests on.

:mod:`im2col._plan` reads them here. They were measured on the 2-core
benchmark machines (``benchmarks/results``, whose files name the machine
each ran on).
"""

#: Bytes set aside from ``max_memory``, per worker, for what a call
#: allocates besides its planned buffers: NumPy's ufunc buffers (a strided
#: ``+=`` buffers up to 8192 elements per operand, 192 KiB for three float64
#: operands) and Python objects.
OVERHEAD = 256 * 2**10

#: Fewest multiply-adds that make a worker thread worth its cost: handing a
#: task to a pool thread and waiting for it takes about 0.1 ms.
WORK_PER_WORKER = 8 * 2**20

#: Below this many output pixels per image, ``im2col_t`` (one wide GEMM per
#: unit) beats one narrow GEMM per image.
SMALL_IMAGE = 256

#: The backward pass of a stride-1 layer uses ``wide`` instead of ``im2col``
#: when the wide grid adds at most this fraction of GEMM columns,
#: ``(Wp - ow) / ow``: its col2im becomes one contiguous add per kernel tap,
#: which paid for a few extra columns (the forward pass gains nothing): on
#: S3 (4%) 0.90-0.92x ``im2col``'s time with two threads, on S1 (19%) no
#: gain. Since ``im2col``'s col2im sums the kernel rows first
#: (:func:`._columns.add_columns`) ``wide`` took 0.90-1.07x ``im2col``'s
#: time on S3 (float32 and float64, one and two threads,
#: ``benchmarks/results``), no gain; but ``wide``'s plan is also the bound
#: of Winograd's backward memory on S3's layer (``im2col``'s plan,
#: smaller, is below Winograd's: :func:`extra_bytes`), so it stays.
WIDE_WASTE = 0.1


#: The forward pass uses ``rows`` (one GEMM per output row on a strip of
#: the input, about ``kh/sh`` times smaller than the columns) for a kernel
#: at least :data:`ROWS_KERNEL` high (and taller than the stride, else the
#: strip is the larger) and at most :data:`ROWS_FILTERS` filters per
#: group, where BLAS runs on one thread (the call's workers hold it there):
#: there im2col's copy is large beside its GEMM. On two workers, in three
#: runs, 7x7 layers of 8 to 64 filters took 0.49-0.96x im2col's time
#: (float32 and float64), of 128 filters 0.91-1.10x, 5x5 and 3x3 layers
#: 0.77-1.32x. With BLAS on two threads, which its narrow products cannot
#: use, 7x7 layers of 8 or 16 filters took 0.16-0.72x, but of 32 or 64
#: filters 0.49-1.69x (the stem 7x7/2 1.20-1.69x), so it is not used
#: there (``python -m benchmarks.rows``, ``rule``).
ROWS_KERNEL = 7
ROWS_FILTERS = 64

#: Elsewhere a layer of stride 1 along the height and more than one kernel
#: row uses ``window_rows`` (one GEMM per kernel row on a strip of the
#: input, ``C/groups*kw`` deep) where that depth is at least this, BLAS
#: runs on one thread and its buffers take no more than im2col's on the
#: same units. Against im2col (float32 and float64, two workers), the
#: forward pass of the layers at least 96 deep took 0.66-1.04x the time
#: (the 5x5 one 0.94-0.98x, the 4-group one 0.82-1.00x, the dilated one
#: 1.01-1.04x, S3 forced 0.84-0.95x), that of the layers at most 48 deep
#: 0.83-2.15x (all but one above 1.15x); the backward pass of the deep ones
#: 0.68-1.10x (the 5x5 one 0.99-1.07x). With one worker and BLAS on two
#: threads the deep ones took 0.70-1.17x forward, 0.77-1.30x backward
#: (``python -m benchmarks.rows``, ``window_rule`` and
#: ``window_backward``). So it trades about even time, or less, for less
#: memory (the 5x5 layer's buffers on two workers, float32, by
#: :func:`im2col._plan.extra_bytes`: 1.9 against 5.0 MiB forward, 3.5
#: against 5.6 backward). In the backward pass ``wide`` and ``full`` come
#: first where they apply: on the 4-group and dilated layers
#: ``window_rows`` took 1.03-1.30x ``full``'s time.
WINDOW_ROWS_DEPTH = 96


#: The backward pass uses ``full`` only on outputs of at least this many
#: pixels per image: on 10x10 to 14x14 outputs it took 0.80-1.00x the time
#: of ``im2col_t`` (one wide GEMM per unit), on 7x7 ones 0.94-1.30x
#: (float32 and float64, ``python -m benchmarks.backward``, ``small_images``).
FULL_PIXELS = 10 * 10


#: ``winograd`` (Winograd's minimal filtering on 2x2 tiles) computes a 3x3,
#: stride-1 layer with at least this many input channels and filters per
#: group and :data:`WINOGRAD_PIXELS` output pixels per image: there it took
#: less time than the other strategies (float32: ``python -m
#: benchmarks.ideas``, ``winograd_rule``; in float64 the forward pass took
#: 0.78-0.83x the time of the choice without it (``window_rows`` on S3,
#: ``im2col_t`` on S4), 0.70-0.80x im2col's, ``benchmarks/results``), on
#: fewer channels or 7x7 outputs more. The
#: backward pass uses it only where its buffers take no more bytes than
#: those of the strategy it replaces, on the most images per unit that keep
#: it so: the transformed filters and their summed gradient, 16 + 16
#: elements per filter and channel against 9 weights, outweigh the columns
#: of small images of many channels (512 channels at 14x14, two workers: 44
#: MiB against ``im2col_t``'s 36; at 256 channels, S4, 13.6 against 15.4 in
#: float32; in float64, where the columns' units hold half the images, S4
#: takes ``full``). The lower bounds rest on layers of as many filters as
#: channels: 64 channels on 14x14 to 56x56 outputs (the forward pass about
#: even on 20x20 and 28x28), 96 to 256 on 14x14, 256 and 512 on 7x7. A
#: grouped layer's products are per group but its transforms cover every
#: channel, so its counts are per group: 4 groups of 32 channels at 28x28
#: took 1.09-1.12x the time forward, 2 or 4 groups of 64 to 128 channels
#: each 0.70-0.88x (three runs, the last in ``benchmarks/results``).
WINOGRAD_CHANNELS = 64
WINOGRAD_PIXELS = 14 * 14
#: The backward pass uses ``winograd`` only where channels per group times
#: filters per group times output pixels per image reach this (64 channels
#: at 32x32): against ``full``, on layers of as many filters as channels,
#: it took 0.84-0.99x the time at 64 channels on 40x40 and 56x56, 128 on
#: 28x28 and 256 on 14x14 outputs, but 0.99-1.67x at 64 channels on 14x14
#: to 28x28 and 96 or 128 on 14x14 (``winograd_rule``). In 2 groups (three
#: runs, the last in ``benchmarks/results``) it took 0.76-0.95x for 64
#: channels each at 56x56 and 0.71-0.78x for 128 at 28x28; below the
#: bound it is borderline, 0.83-1.10x (64 each at 28x28, 128 at 14x14), so
#: the bound stays where the layers of one group put it.
WINOGRAD_BACKWARD_WORK = 64 * 64 * 32 * 32
