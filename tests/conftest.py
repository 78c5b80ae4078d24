"""Shared test setup: never reach a model hub, never let ultralytics install anything."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["YOLO_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
