"""CPU kernel choices under which a batched pipeline call computes each image exactly as a call with that image alone.

Measured on this machine's CPU (torch 2.14, MKL, oneDNN 3.12), comparing row i of a batch of N with
a batch of 1: MKL's sgemm picks kernels by the number of rows (a Linear differs in the last bits for
1 vs 4 rows) unless MKL_CBWR is "AUTO,STRICT" (set in models/__init__.py); oneDNN's convolutions
pick algorithms by batch size, and torch switches to NNPACK's convolution from a batch of 16 (8 images
with classifier-free guidance), while torch's own convolution gives the same bits; the VAE's mid-block
attention lays tensors out differently for a batch, so a batch is decoded one image at a time (VAE
slicing). With all three the UNet, the text encoder and the VAE give bit-identical rows.

The convolution choice holds only while an image is being generated (`batch_invariant_kernels()`),
so other work in the same process (vision models, say) keeps oneDNN's faster convolutions.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch

_exact = True


def use_batch_invariant_kernels(enabled: bool = True) -> None:
    """Whether generation uses torch's own convolutions instead of oneDNN's and NNPACK's (the default).

    True: every image has the same bits alone and in a batch, at some cost (about 1.2-1.6x per
    SD-sized convolution here). False trades that for speed; a job alone still repeats exactly.
    """
    global _exact
    _exact = enabled


@contextmanager
def batch_invariant_kernels() -> Iterator[None]:
    """Within the block, convolutions give each image of a batch the bits it gets alone (if enabled)."""
    if not _exact:
        yield
        return
    mkldnn = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        with torch.backends.nnpack.flags(enabled=False):  # type: ignore[no-untyped-call]
            yield
    finally:
        torch.backends.mkldnn.enabled = mkldnn
