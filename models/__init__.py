"""Stable Diffusion model handling for imagined: devices, samplers, built-in models, pipelines."""
