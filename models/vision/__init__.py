"""Vision models: YOLO detection, segmentation, pose and classification with ultralytics and ONNX Runtime.

Light modules the daemon may import (no torch, no ultralytics): registry, params, providers, dataset.
Everything else imports torch and ultralytics, through `models.vision._ultralytics` first.
"""
