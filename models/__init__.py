"""Stable Diffusion model handling for imagined: devices, samplers, built-in models, pipelines."""

import os

# MKL's strict conditional numerical reproducibility: its matrix products then give each row the same
# bits whatever the number of rows, so a batched pipeline call reproduces single runs exactly (see
# models/kernels.py). MKL reads this at its first call, so it is set here, before any model code runs;
# an MKL_CBWR the user set wins. It costs little: measured within noise on this CPU.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
