"""Writing a diffusers Stable Diffusion 1.x or XL folder as one original-layout (LDM / SGM) checkpoint file.

This is the layout model sites share (`model.diffusion_model.*`, `first_stage_model.*`, and
`cond_stage_model.transformer.*` for SD 1.x or `conditioner.embedders.{0,1}.*` for SDXL), the inverse of what diffusers' from_single_file reads; it
follows diffusers' scripts/convert_diffusers_to_original_stable_diffusion.py, with the block
indices worked out from the UNet's config instead of SD 1.5's fixed sizes, so the tiny built-in
models convert too. Used to test single-file loading and to hand tiny models to tools that want one file.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

_RESNET_RENAMES = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0",
    "add_embedding.linear_2": "label_emb.0.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}
_OPEN_CLIP_TOP = {
    "text_model.embeddings.position_embedding.weight": "positional_embedding",
    "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
    "text_model.final_layer_norm.weight": "ln_final.weight",
    "text_model.final_layer_norm.bias": "ln_final.bias",
    "text_projection.weight": "text_projection",  # stored transposed
}
_OPEN_CLIP_RENAMES = (
    ("text_model.encoder.layers.", "resblocks."),
    ("layer_norm1", "ln_1"),
    ("layer_norm2", "ln_2"),
    (".fc1.", ".c_fc."),
    (".fc2.", ".c_proj."),
    (".self_attn", ".attn"),
)
_VAE_ATTENTION_RENAMES = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    files = sorted(folder.glob("*.safetensors"))
    if len(files) != 1:
        raise ValueError(f"{folder} should hold exactly one .safetensors weights file, found {len(files)}")
    return load_file(files[0])


def _config(folder: Path) -> dict[str, object]:
    return dict(json.loads((folder / "config.json").read_text(encoding="utf-8")))


def _rename_resnet(rest: str) -> str:
    head, _, tail = rest.partition(".")
    return f"{_RESNET_RENAMES.get(head, head)}.{tail}"


def _unet_block_names(config: dict[str, object]) -> dict[str, str]:
    """diffusers block prefix -> LDM block prefix, for every resnet, attention and resampler."""
    per_level = int(config["layers_per_block"]) + 1  # type: ignore[call-overload]
    levels = len(config["block_out_channels"])  # type: ignore[arg-type]
    names: dict[str, str] = {}
    for level in range(levels):
        for layer in range(per_level - 1):
            index = level * per_level + layer + 1
            names[f"down_blocks.{level}.resnets.{layer}"] = f"input_blocks.{index}.0"
            names[f"down_blocks.{level}.attentions.{layer}"] = f"input_blocks.{index}.1"
        names[f"down_blocks.{level}.downsamplers.0.conv"] = f"input_blocks.{(level + 1) * per_level}.0.op"
        has_attention = "CrossAttn" in str(config["up_block_types"][level])  # type: ignore[index]
        for layer in range(per_level):
            index = level * per_level + layer
            names[f"up_blocks.{level}.resnets.{layer}"] = f"output_blocks.{index}.0"
            names[f"up_blocks.{level}.attentions.{layer}"] = f"output_blocks.{index}.1"
        upsampler = f"output_blocks.{level * per_level + per_level - 1}.{2 if has_attention else 1}.conv"
        names[f"up_blocks.{level}.upsamplers.0.conv"] = upsampler
    names.update({"mid_block.resnets.0": "middle_block.0", "mid_block.attentions.0": "middle_block.1",
                  "mid_block.resnets.1": "middle_block.2"})  # fmt: skip
    return names


def _split(key: str, prefixes: dict[str, str]) -> tuple[str, str] | None:
    """The longest known block prefix of key and the rest of the key, or None."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in prefixes:
            return head, ".".join(parts[cut:])
    return None


def unet_to_ldm(weights: dict[str, torch.Tensor], config: dict[str, object]) -> dict[str, torch.Tensor]:
    blocks = _unet_block_names(config)
    out = {}
    for key, tensor in weights.items():
        found = _split(key, {**blocks, **_UNET_TOP})
        if found is None:
            raise ValueError(f"UNet weight {key} has no place in the original layout")
        head, rest = found
        if head in _UNET_TOP:
            new = f"{_UNET_TOP[head]}.{rest}"
        elif ".resnets." in head:
            new = f"{blocks[head]}.{_rename_resnet(rest)}"
        else:  # attentions keep their inner names; resamplers are conv weight/bias
            new = f"{blocks[head]}.{rest}"
        out[f"model.diffusion_model.{new}"] = tensor
    return out


def _vae_block_names(config: dict[str, object]) -> dict[str, str]:
    levels = len(config["down_block_types"])  # type: ignore[arg-type]
    names = {}
    for level in range(levels):
        names[f"encoder.down_blocks.{level}.resnets"] = f"encoder.down.{level}.block"
        names[f"encoder.down_blocks.{level}.downsamplers.0"] = f"encoder.down.{level}.downsample"
        names[f"decoder.up_blocks.{level}.resnets"] = f"decoder.up.{levels - 1 - level}.block"
        names[f"decoder.up_blocks.{level}.upsamplers.0"] = f"decoder.up.{levels - 1 - level}.upsample"
    for part in ("encoder", "decoder"):
        names[f"{part}.mid_block.resnets.0"] = f"{part}.mid.block_1"
        names[f"{part}.mid_block.resnets.1"] = f"{part}.mid.block_2"
        names[f"{part}.mid_block.attentions.0"] = f"{part}.mid.attn_1"
        names[f"{part}.conv_norm_out"] = f"{part}.norm_out"
    return names


def vae_to_ldm(weights: dict[str, torch.Tensor], config: dict[str, object]) -> dict[str, torch.Tensor]:
    """VAE weights in the original layout, without the first_stage_model. prefix (as standalone VAE files are)."""
    blocks = _vae_block_names(config)
    out = {}
    for key, tensor in weights.items():
        found = _split(key, blocks)
        if found is None:
            out[key] = tensor  # conv_in, conv_out, quant_conv, post_quant_conv: the same names
            continue
        head, rest = found
        if head.endswith("attentions.0"):
            name, _, param = rest.rpartition(".")
            rest = f"{_VAE_ATTENTION_RENAMES.get(name, name)}.{param}"
            if tensor.ndim == 2:  # the original attention projections are 1x1 convolutions
                tensor = tensor[:, :, None, None]
        out[f"{blocks[head]}.{rest.replace('conv_shortcut', 'nin_shortcut')}"] = tensor
    return out


def text_encoder_to_ldm(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """A transformers CLIP text encoder under prefix, as SD 1.x (and SDXL's first encoder) store it."""
    return {prefix + (k if k.startswith("text_model.") else f"text_model.{k}"): v for k, v in weights.items()}


def _open_clip_name(key: str) -> str:
    for ours, theirs in _OPEN_CLIP_RENAMES:
        key = key.replace(ours, theirs)
    return key


def open_clip_to_ldm(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """A CLIPTextModelWithProjection in OpenCLIP's layout (SDXL's second encoder): q, k and v in one in_proj."""
    weights = {(k if k.startswith(("text_model.", "text_projection")) else f"text_model.{k}"): v
               for k, v in weights.items()}  # fmt: skip
    out = {}
    for key, tensor in weights.items():
        if key in _OPEN_CLIP_TOP:
            out[prefix + _OPEN_CLIP_TOP[key]] = tensor.T if key == "text_projection.weight" else tensor
        elif ".self_attn.k_proj." in key or ".self_attn.v_proj." in key:
            continue  # joined into in_proj with q below
        elif ".self_attn.q_proj." in key:
            layer, _, param = key.rpartition(".q_proj.")
            parts = [weights[f"{layer}.{name}_proj.{param}"] for name in ("q", "k", "v")]
            out[f"{prefix}transformer.{_open_clip_name(layer)}.in_proj_{param}"] = torch.cat(parts, dim=0)
        else:
            out[f"{prefix}transformer.{_open_clip_name(key)}"] = tensor
    return out


def _with_vae_and_unet(folder: Path) -> dict[str, torch.Tensor]:
    state = unet_to_ldm(_read_weights(folder / "unet"), _config(folder / "unet"))
    vae = vae_to_ldm(_read_weights(folder / "vae"), _config(folder / "vae"))
    state.update({f"first_stage_model.{k}": v for k, v in vae.items()})
    return state


def sd_folder_to_ldm(folder: Path) -> dict[str, torch.Tensor]:
    """Every weight of a diffusers Stable Diffusion 1.x folder, in the original single-file layout."""
    state = _with_vae_and_unet(folder)
    state.update(text_encoder_to_ldm(_read_weights(folder / "text_encoder"), "cond_stage_model.transformer."))
    return state


def sdxl_folder_to_ldm(folder: Path) -> dict[str, torch.Tensor]:
    """Every weight of a diffusers Stable Diffusion XL folder, in the original (SGM) single-file layout."""
    state = _with_vae_and_unet(folder)
    state.update(text_encoder_to_ldm(_read_weights(folder / "text_encoder"), "conditioner.embedders.0.transformer."))
    state.update(open_clip_to_ldm(_read_weights(folder / "text_encoder_2"), "conditioner.embedders.1.model."))
    return state


def save_checkpoint(state: dict[str, torch.Tensor], path: Path) -> Path:
    """As .safetensors, or for .ckpt as torch.save({"state_dict": ...}) the way the original repos saved them."""
    state = {k: v.contiguous() for k, v in state.items()}
    if path.suffix == ".ckpt":
        torch.save({"state_dict": state}, path)
    else:
        save_file(state, path)
    return path
