#!/usr/bin/python3
"""Export simdoptim ModelSpec files and golden parameter groupings from torchvision models.

For each model (ResNet-50, Swin-T, ViT-B/16 from torchvision) this writes
  tools/specs/<model>.yaml          the ModelSpec (format: docs/model_spec.md)
  tests/data/grouping/<model>.yaml  the param groups that the seed recipe's Python
                                    build_optimizer / set_weight_decay produces on the same model
                                    (group order, parameter names in order, weight decay, lr)

The files are committed so that the C++ tests never need torch. Regenerate with
  /usr/bin/python3 tools/export_spec.py
Needs Debian's python3-torch and python3-torchvision (torch 1.13, torchvision 0.14).
"""

import argparse
import os
import re
import sys
from types import SimpleNamespace

import torch
import torchvision

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The recipe defaults the goldens are produced with (the Swin recipe's TRAIN section). The C++
# test loads tests/data/grouping/recipe.yaml, which this script writes from the same values.
RECIPE = SimpleNamespace(
    TRAIN=SimpleNamespace(
        BASE_LR=5e-4,
        WEIGHT_DECAY=0.05,
        OPTIMIZER=SimpleNamespace(NAME="adamw", EPS=1e-8, BETAS=(0.9, 0.999), MOMENTUM=0.9),
    )
)


# ---- The seed recipe, verbatim in behaviour (shared/seed/torch-optim-notes.md) ----------------
def build_optimizer(config, model):
    skip = {}
    skip_keywords = {}
    if hasattr(model, "no_weight_decay"):
        skip = model.no_weight_decay()
    if hasattr(model, "no_weight_decay_keywords"):
        skip_keywords = model.no_weight_decay_keywords()
    parameters = set_weight_decay(model, skip, skip_keywords)

    opt_lower = config.TRAIN.OPTIMIZER.NAME.lower()
    optimizer = None
    if opt_lower == "sgd":
        optimizer = torch.optim.SGD(parameters, momentum=config.TRAIN.OPTIMIZER.MOMENTUM,
                                    nesterov=True, lr=config.TRAIN.BASE_LR,
                                    weight_decay=config.TRAIN.WEIGHT_DECAY)
    elif opt_lower == "adamw":
        optimizer = torch.optim.AdamW(parameters, eps=config.TRAIN.OPTIMIZER.EPS,
                                      betas=config.TRAIN.OPTIMIZER.BETAS,
                                      lr=config.TRAIN.BASE_LR,
                                      weight_decay=config.TRAIN.WEIGHT_DECAY)
    return optimizer


def set_weight_decay(model, skip_list=(), skip_keywords=()):
    has_decay = []
    no_decay = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if len(param.shape) == 1 or name.endswith(".bias") or (name in skip_list) or \
                check_keywords_in_name(name, skip_keywords):
            no_decay.append(param)
        else:
            has_decay.append(param)
    return [{"params": has_decay},
            {"params": no_decay, "weight_decay": 0.}]


def check_keywords_in_name(name, keywords=()):
    isin = False
    for keyword in keywords:
        if keyword in name:
            isin = True
    return isin
# -------------------------------------------------------------------------------------------------


def layer_ids_resnet(names):
    """Stem (conv1, bn1) is layer 0, each bottleneck layerS.B the next id, the head (fc) last."""
    return sequential_layer_ids(names, lambda n: re.match(r"^(layer\d+\.\d+)\.", n),
                                lambda n: n.startswith(("conv1.", "bn1.")))


def layer_ids_swin(names):
    """Stem (features.0) is layer 0, each Swin block features.S.B the next id; a patch merging
    stage (features.2/4/6) shares the id of the block that follows it, as timm's Swin puts
    `downsample` at the start of the next stage; final norm and head are last."""
    ids = sequential_layer_ids(names, lambda n: re.match(r"^(features\.\d+\.\d+)\.", n),
                               lambda n: n.startswith("features.0."))
    for i, n in enumerate(names):
        if re.match(r"^features\.\d+\.(reduction|norm)\.", n):
            ids[i] = next(ids[j] for j in range(i + 1, len(names))
                          if re.match(r"^features\.\d+\.\d+\.", names[j]))
    return ids


def layer_ids_vit(names):
    """class_token, conv_proj and pos_embedding are layer 0 (timm's ViT `stem`), encoder layer k
    is k + 1, the final norm and head are last."""
    return sequential_layer_ids(
        names, lambda n: re.match(r"^(encoder\.layers\.encoder_layer_\d+)\.", n),
        lambda n: n in ("class_token", "encoder.pos_embedding") or n.startswith("conv_proj."))


def sequential_layer_ids(names, block_of, in_stem):
    """Numbers blocks in order of appearance from 1; stem params get 0, the rest the last id."""
    blocks = []
    ids = []
    for n in names:
        m = block_of(n)
        if in_stem(n):
            ids.append(0)
        elif m:
            if m.group(1) not in blocks:
                blocks.append(m.group(1))
            ids.append(blocks.index(m.group(1)) + 1)
        else:
            ids.append(None)
    last = len(blocks) + 1
    return [last if i is None else i for i in ids]


# torchvision builder, no_weight_decay names, keywords, layer-id rule.
MODELS = {
    # torchvision's ResNet defines neither; the recipe then skips only 1-D params and biases.
    "resnet50": (torchvision.models.resnet50, set(), set(), layer_ids_resnet),
    # Swin recipe: {'absolute_pos_embed'} and keyword {'relative_position_bias_table'}.
    "swin_t": (torchvision.models.swin_t, {"absolute_pos_embed"},
               {"relative_position_bias_table"}, layer_ids_swin),
    # timm's ViT skips its position embedding and class token; these are torchvision's names.
    "vit_b_16": (torchvision.models.vit_b_16, {"class_token", "encoder.pos_embedding"}, set(),
                 layer_ids_vit),
}


def make_model(name):
    builder, skip, keywords, _ = MODELS[name]
    model = builder()
    # Attach the recipe's hooks to the instance, as the Swin model class defines them.
    model.no_weight_decay = lambda: set(skip)
    model.no_weight_decay_keywords = lambda: set(keywords)
    return model


def yaml_str(s):
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_list(items):
    return "[" + ", ".join(items) + "]"


def write_spec(name, model, path):
    _, skip, keywords, layer_rule = MODELS[name]
    params = list(model.named_parameters())
    layer_ids = layer_rule([n for n, _ in params])
    lines = [
        f"# ModelSpec of torchvision.models.{name}() (torch {torch.__version__}, torchvision "
        f"{torchvision.__version__}).",
        "# Generated by tools/export_spec.py; format: docs/model_spec.md.",
        f"model: {name}",
        f"no_weight_decay: {yaml_list(yaml_str(s) for s in sorted(skip))}",
        f"no_weight_decay_keywords: {yaml_list(yaml_str(s) for s in sorted(keywords))}",
        "params:",
    ]
    for (pname, p), lid in zip(params, layer_ids):
        extra = "" if p.requires_grad else ", requires_grad: false"
        lines.append(f"  - {{name: {yaml_str(pname)}, shape: {yaml_list(str(d) for d in p.shape)}"
                     f", layer_id: {lid}{extra}}}")
    write(path, lines)


def write_golden(name, model, path):
    optimizer = build_optimizer(RECIPE, model)
    names = {id(p): n for n, p in model.named_parameters()}
    lines = [
        f"# Param groups of the seed recipe's build_optimizer on torchvision.models.{name}()",
        "# with tests/data/grouping/recipe.yaml. Generated by tools/export_spec.py.",
        f"model: {name}",
        f"optimizer: {type(optimizer).__name__.lower()}",
        "groups:",
    ]
    for group in optimizer.param_groups:
        if not group["params"]:
            continue  # the C++ side never creates an empty group
        lines.append(f"  - lr: {group['lr']!r}")
        lines.append(f"    weight_decay: {float(group['weight_decay'])!r}")
        lines.append("    params:")
        lines.extend(f"      - {yaml_str(names[id(p)])}" for p in group["params"])
    write(path, lines)


def write_recipe(path):
    t = RECIPE.TRAIN
    write(path, [
        "# The config the grouping goldens were produced with (tools/export_spec.py).",
        "TRAIN:",
        f"  BASE_LR: {t.BASE_LR!r}",
        f"  WEIGHT_DECAY: {t.WEIGHT_DECAY!r}",
        "  OPTIMIZER:",
        f"    NAME: {t.OPTIMIZER.NAME}",
        f"    EPS: {t.OPTIMIZER.EPS!r}",
        f"    BETAS: {yaml_list(repr(b) for b in t.OPTIMIZER.BETAS)}",
        f"    MOMENTUM: {t.OPTIMIZER.MOMENTUM!r}",
    ])


def write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.relpath(path, REPO)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", default=os.path.join(REPO, "tools", "specs"))
    parser.add_argument("--goldens", default=os.path.join(REPO, "tests", "data", "grouping"))
    parser.add_argument("models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    for name in args.models:
        if name not in MODELS:
            sys.exit(f"unknown model '{name}'; valid: {', '.join(MODELS)}")
        model = make_model(name)
        write_spec(name, model, os.path.join(args.specs, f"{name}.yaml"))
        write_golden(name, model, os.path.join(args.goldens, f"{name}.yaml"))
    write_recipe(os.path.join(args.goldens, "recipe.yaml"))


if __name__ == "__main__":
    main()
