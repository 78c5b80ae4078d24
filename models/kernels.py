"""CPU kernel choices under which a batched pipeline call computes each image exactly as a call with that image alone.

Measured on this machine's CPU (torch 2.14, MKL, oneDNN 3.12), comparing row i of a batch of N with
a batch of 1: MKL's sgemm picks kernels by the number of rows (a Linear differs in the last bits for
1 vs 4 rows) unless MKL_CBWR is "AUTO,STRICT" (set in models/__init__.py); oneDNN's convolutions
pick algorithms by batch size, and torch switches to NNPACK's convolution from a batch of 16 (8 images
with classifier-free guidance), while torch's own convolution gives the same bits; the VAE's mid-block attention
lays tensors out differently for a batch, so a batch is decoded one image at a time (VAE slicing).
With all three the UNet, the text encoder and the VAE give bit-identical rows.
"""

import torch


def use_batch_invariant_kernels(enabled: bool = True) -> None:
    """True: torch's own convolutions instead of oneDNN's or NNPACK's (slower on CPU, about 1.3-1.6x per convolution here).

    Every image then has the same bits alone and in a batch; False trades that for speed. Either
    way a job alone repeats exactly; it is the same process-wide setting for all jobs.
    """
    torch.backends.mkldnn.enabled = not enabled
    torch.backends.nnpack.set_flags(not enabled)  # type: ignore[no-untyped-call]
