#!/usr/bin/python3
"""Converts between simdoptim checkpoints (docs/checkpoint_format.md) and torch's
optimizer.state_dict() saved with torch.save. Needs Debian's python3-torch (torch 1.13).

    convert_checkpoint.py to-torch  ours.ckpt  out.pt
    convert_checkpoint.py from-torch in.pt     out.ckpt  --like ours.ckpt
    convert_checkpoint.py from-torch in.pt     out.ckpt  --optimizer adam

to-torch writes {'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...],
'param_names': [...]}]}: parameters are numbered in group order, as torch does; each group also
gets the torch optimizer's own defaults for keys simdoptim has no use for (foreach, capturable,
...), every state gets 'step' (also SGD's, which torch ignores), and 'param_names' (ignored by torch 1.13, used by the way back). Parameters themselves are
not in torch's optimizer state_dict and are dropped.

from-torch needs each parameter's name and shape: from --like (a simdoptim checkpoint of the
target optimizer: its names, shapes, optimizer type and parameter values are used; torch's state
and options replace the rest), else from 'param_names' and the state's shapes (--optimizer names
the type). Options: torch's tuples become simdoptim's scalar pairs (betas -> beta1, beta2);
booleans 0/1; torch's foreach/capturable/differentiable/fused are dropped, other keys kept (an
unknown one makes simdoptim's load fail with its name). State: 'step' -> step, tensors of the
parameter's shape -> state arrays, 0-d tensors -> per-tensor scalars (NAdam's mu_product, ...).

Storage (format version 3): to-torch gives torch's fp32 state whatever the group stored: q8 state
dequantized (the same bits as the library's decoder), bf16/fp16 state and parameters widened
(exactly); the group's storage record and averaged parameters are dropped. from-torch writes
version 1 (every array fp32), which an optimizer of any storage loads by converting: into q8
state it is quantized, into 16-bit arrays rounded to nearest-even.
"""

import argparse
import math
import struct
import sys

MAGIC = b"SMDOPTCK"
VERSION = 1  # written: fp32 arrays, which every version's reader loads
READ_VERSION = 3
F32, BF16, F16, Q8 = 0, 1, 2, 3
QUANT_BLOCK = 256
TORCH_CLASS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad",
               "rmsprop": "RMSprop", "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "NAdam",
               "radam": "RAdam", "rprop": "Rprop", "asgd": "ASGD"}
PAIRS = {"betas": ("beta1", "beta2"), "etas": ("etaminus", "etaplus"),
         "step_sizes": ("step_size_min", "step_size_max")}
# torch's implementation switches, which simdoptim has no use for.
TORCH_ONLY = ("foreach", "capturable", "differentiable", "fused")

_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    _TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


class Reader:
    def __init__(self, data, what):
        self.data, self.pos, self.what = data, 0, what

    def take(self, n):
        if n > len(self.data) - self.pos:
            raise ValueError(f"{self.what}: truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))[0]

    def str(self):
        return self.take(self.unpack("I")).decode()

    def floats(self):
        n = self.unpack("Q")
        return list(struct.unpack(f"<{n}f", self.take(4 * n)))

    def u16s(self):
        n = self.unpack("Q")
        return list(struct.unpack(f"<{n}H", self.take(2 * n)))

    def bytes8(self):
        return self.take(self.unpack("Q"))


def _quant8_magnitudes(mantissa_bits):
    """Each magnitude code's value relative to its block's scale (kernels/quant8.hpp)."""
    out = []
    for c in range(1 << (4 + mantissa_bits)):
        e, m = c >> mantissa_bits, c & ((1 << mantissa_bits) - 1)
        if e == 0:
            out.append(m * 2.0 ** (-13 - mantissa_bits))
        else:
            out.append((1 + m / 2 ** mantissa_bits) * 2.0 ** (e - 14))
    return out


_SIGNED, _UNSIGNED = _quant8_magnitudes(3), _quant8_magnitudes(4)


def _f32(v):
    """The fp32 value of an exact product v, as the library's decoder gives it: subnormal
    results flushed to a zero of their sign, overflow to infinity."""
    if abs(v) < 2.0 ** -126:
        return math.copysign(0.0, v)
    return math.copysign(math.inf, v) if abs(v) >= 2.0 ** 128 else v


def dequantize(codes, scales, non_negative):
    """The fp32 values of a q8 state array: codes and one power-of-two scale per 256."""
    if len(scales) != (len(codes) + QUANT_BLOCK - 1) // QUANT_BLOCK:
        raise ValueError(f"{len(scales)} scales for {len(codes)} codes")
    out = []
    for k, c in enumerate(codes):
        scale = scales[k // QUANT_BLOCK]
        if non_negative:
            if c == 0xFF:
                out.append(math.nan)
            elif c == 0xFE:
                out.append(math.inf)
            else:
                out.append(_f32(_UNSIGNED[c] * _UNSIGNED[c] * scale))
        else:
            sign = -1.0 if c & 0x80 else 1.0
            if c & 0x7F == 0x7F:
                out.append(math.copysign(math.nan, sign))
            elif c & 0x7F == 0x7E:
                out.append(sign * math.inf)
            else:
                out.append(_f32(sign * _SIGNED[c & 0x7F] * scale))
    return out


def widen16(dtype, bits):
    """The fp32 values of bf16 or fp16 bits (exact)."""
    if dtype == BF16:
        return list(struct.unpack(f"<{len(bits)}f", struct.pack(f"<{len(bits)}I",
                                                                 *(b << 16 for b in bits))))
    return list(struct.unpack(f"<{len(bits)}e", struct.pack(f"<{len(bits)}H", *bits)))


class Writer:
    def __init__(self):
        self.out = bytearray()

    def pack(self, fmt, v):
        self.out += struct.pack("<" + fmt, v)

    def str(self, s):
        b = s.encode()
        self.pack("I", len(b))
        self.out += b

    def floats(self, v):
        self.pack("Q", len(v))
        self.out += struct.pack(f"<{len(v)}f", *v)


def read_ours(path):
    """The checkpoint as {'optimizer', 'groups': [{'options': [(k, v)], 'tensors': [...]}]}."""
    r = Reader(open(path, "rb").read(), path)
    head = r.take(16)
    if head[:8] != MAGIC:
        raise ValueError(f"{path}: not a simdoptim checkpoint")
    if r.unpack("I") != crc32c(head):
        raise ValueError(f"{path}: header CRC mismatch")
    version, order, kind = struct.unpack("<IBB", head[8:14])
    if version > READ_VERSION or order != 1 or kind != 1:
        raise ValueError(f"{path}: unsupported version {version}, byte order {order} or kind {kind}")

    def section(tag):
        start = r.pos
        t, length = r.take(4), r.unpack("Q")
        payload = r.take(length)
        if r.unpack("I") != crc32c(r.data[start:start + 12 + length]):
            raise ValueError(f"{path}: section {t} CRC mismatch")
        if t != tag:
            raise ValueError(f"{path}: expected section {tag}, found {t}")
        return Reader(payload, f"{path} {tag.decode()}")

    meta = section(b"META")
    meta.str()
    ckpt = {"optimizer": meta.str(), "groups": []}
    groups = meta.unpack("I")
    if version >= 2 and meta.unpack("B"):  # weight averaging's counts: torch has no place
        meta.unpack("q"), meta.unpack("q")
    for _ in range(groups):
        g = section(b"GRUP")
        options = [(g.str(), g.unpack("d")) for _ in range(g.unpack("I"))]
        tensors = []
        for _ in range(g.unpack("I")):
            t = {"name": g.str(), "dtype": g.unpack("B")}
            t["shape"] = [g.unpack("q") for _ in range(g.unpack("I"))]
            t["step"], t["initialized"] = g.unpack("q"), g.unpack("B") == 1
            t["scalars"] = [(g.str(), g.unpack("d")) for _ in range(g.unpack("I"))]
            t["arrays"] = []
            for _ in range(g.unpack("I")):
                name, dtype = g.str(), g.unpack("B")
                non_negative = version >= 3 and dtype == Q8 and g.unpack("B") == 1
                t["arrays"].append([name, dtype, non_negative])
            t["param"] = None
            if g.unpack("B"):
                t["param"] = [g.unpack("B") if version >= 3 else F32]
            t["averaged"] = version >= 2 and g.unpack("B") == 1
            tensors.append(t)
        if version >= 3 and g.unpack("B"):  # the group's storage, which torch does not keep
            g.take(5), g.unpack("Q")
        for t in tensors:
            if t["arrays"] or t["param"] is not None or t["averaged"]:
                d = section(b"DATA")
                d.unpack("I"), d.unpack("I")
                # Every array as fp32 (q8 dequantized, 16-bit widened), as torch keeps them.
                for a in t["arrays"]:
                    name, dtype, non_negative = a
                    if dtype == F32:
                        a[2] = d.floats()
                    elif dtype == Q8:
                        codes = d.bytes8()
                        a[2] = dequantize(codes, d.floats(), non_negative)
                    else:
                        a[2] = widen16(dtype, d.u16s())
                    a[1] = F32
                if t["param"] is not None:
                    stored = t["param"][0]
                    t["param"] = d.floats() if stored == F32 else widen16(stored, d.u16s())
                if t["averaged"]:
                    d.floats()
            t["dtype"] = F32
            del t["averaged"]
        ckpt["groups"].append({"options": options, "tensors": tensors})
    return ckpt


def write_ours(ckpt, path):
    w = Writer()
    w.out += MAGIC + struct.pack("<IBBH", VERSION, 1, 1, 0)
    w.pack("I", crc32c(w.out))
    count = 0

    def section(tag, payload):
        nonlocal count
        frame = tag + struct.pack("<Q", len(payload)) + bytes(payload)
        w.out += frame + struct.pack("<I", crc32c(frame))
        count += 1

    meta = Writer()
    meta.str("convert_checkpoint.py")
    meta.str(ckpt["optimizer"])
    meta.pack("I", len(ckpt["groups"]))
    section(b"META", meta.out)
    for gi, group in enumerate(ckpt["groups"]):
        g = Writer()
        g.pack("I", len(group["options"]))
        for k, v in group["options"]:
            g.str(k)
            g.pack("d", float(v))
        g.pack("I", len(group["tensors"]))
        for t in group["tensors"]:
            g.str(t["name"])
            g.pack("B", t.get("dtype", 0))
            g.pack("I", len(t["shape"]))
            for d in t["shape"]:
                g.pack("q", d)
            g.pack("q", t["step"])
            g.pack("B", 1 if t["initialized"] else 0)
            g.pack("I", len(t["scalars"]))
            for k, v in t["scalars"]:
                g.str(k)
                g.pack("d", v)
            g.pack("I", len(t["arrays"]))
            for name, dtype, _ in t["arrays"]:
                g.str(name)
                g.pack("B", dtype)
            g.pack("B", 0 if t["param"] is None else 1)
        section(b"GRUP", g.out)
        for ti, t in enumerate(group["tensors"]):
            if t["arrays"] or t["param"] is not None:
                d = Writer()
                d.pack("I", gi)
                d.pack("I", ti)
                for a in t["arrays"]:
                    d.floats(a[2])
                if t["param"] is not None:
                    d.floats(t["param"])
                section(b"DATA", d.out)
    end = Writer()
    end.pack("I", count)
    section(b"END ", end.out)
    tmp = path + ".tmp"
    open(tmp, "wb").write(w.out)
    import os
    os.replace(tmp, path)


def torch_defaults(optimizer):
    import torch
    cls = getattr(torch.optim, TORCH_CLASS[optimizer])
    return dict(cls([torch.zeros(1, requires_grad=True)], lr=1e-3).defaults)


def to_torch(ckpt):
    """A torch optimizer state_dict (a plain dict of tensors) from a simdoptim checkpoint."""
    import torch
    defaults = torch_defaults(ckpt["optimizer"])
    state, groups, index = {}, [], 0
    for group in ckpt["groups"]:
        opts = dict(group["options"])
        out = {}
        for key, default in defaults.items():
            if key in PAIRS:
                a, b = PAIRS[key]
                out[key] = (opts.pop(a), opts.pop(b))
            elif key in opts:
                v = opts.pop(key)
                out[key] = bool(v) if isinstance(default, bool) else v
            else:
                out[key] = default
        out.update(opts)  # initial_lr, lr_scale
        out["params"], out["param_names"] = [], []
        for t in group["tensors"]:
            out["params"].append(index)
            out["param_names"].append(t["name"])
            if t["initialized"] or t["step"]:
                s = {}
                # torch's SGD keeps no step; the extra key is harmless and keeps the count.
                s["step"] = torch.tensor(float(t["step"]))
                for name, _, data in t["arrays"]:
                    s[name] = torch.tensor(data, dtype=torch.float32).reshape(t["shape"])
                for name, v in t["scalars"]:
                    s[name] = torch.tensor(v, dtype=torch.float32)
                if s:
                    state[index] = s
            index += 1
        groups.append(out)
    return {"state": state, "param_groups": groups}


def from_torch(sd, optimizer, like=None):
    """A simdoptim checkpoint dict from a torch optimizer state_dict."""
    import torch
    if like is not None and len(like["groups"]) != len(sd["param_groups"]):
        raise ValueError("--like has another number of param groups")
    ckpt = {"optimizer": optimizer, "groups": []}
    for gi, group in enumerate(sd["param_groups"]):
        options = []
        for key, v in group.items():
            if key in PAIRS:
                options += list(zip(PAIRS[key], map(float, v)))
            elif key in ("params", "param_names") or v is None:
                continue
            elif key in TORCH_ONLY:
                continue
            elif isinstance(v, (bool, int, float)):
                options.append((key, float(v)))
        tensors = []
        for ti, index in enumerate(group["params"]):
            s = sd["state"].get(index, {})
            if like is not None:
                base = like["groups"][gi]["tensors"][ti]
                name, shape, param = base["name"], base["shape"], base["param"]
            else:
                name = group.get("param_names", [f"p{index}"] * (ti + 1))[ti]
                arrays = [v for v in s.values() if torch.is_tensor(v) and v.dim() > 0]
                if not arrays:
                    raise ValueError(f"shape of parameter {name} unknown: pass --like")
                shape, param = list(arrays[0].shape), None
            t = {"name": name, "shape": shape, "step": int(float(s.get("step", 0))),
                 "initialized": False, "scalars": [], "arrays": [], "param": param}
            for key, v in s.items():
                if key == "step" or v is None:
                    continue
                if v.dim() == 0:
                    t["scalars"].append((key, float(v)))
                else:
                    if list(v.shape) != list(shape):
                        raise ValueError(f"{name}: state {key} has shape {list(v.shape)}, "
                                         f"expected {shape}")
                    t["arrays"].append([key, 0, v.detach().float().flatten().tolist()])
            t["initialized"] = bool(t["arrays"]) or bool(t["scalars"])
            tensors.append(t)
        ckpt["groups"].append({"options": options, "tensors": tensors})
    return ckpt


def check_torch_equivalent(optimizer, path):
    """Exits with a message when `optimizer` (simdoptim's name) has no torch.optim class."""
    if optimizer not in TORCH_CLASS:
        sys.exit(f"convert_checkpoint.py: {path} is a '{optimizer}' checkpoint, and "
                 f"{optimizer} has no torch equivalent in torch.optim, so there is no torch "
                 f"format to convert it to or from (torch equivalents: "
                 f"{', '.join(sorted(TORCH_CLASS))})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("direction", choices=["to-torch", "from-torch"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--like", help="simdoptim checkpoint giving names, shapes, type and params")
    ap.add_argument("--optimizer", choices=sorted(TORCH_CLASS), help="optimizer type")
    args = ap.parse_args(argv)
    import torch
    if args.direction == "to-torch":
        ckpt = read_ours(args.input)
        check_torch_equivalent(ckpt["optimizer"], args.input)
        torch.save(to_torch(ckpt), args.output)
    else:
        like = read_ours(args.like) if args.like else None
        optimizer = args.optimizer or (like and like["optimizer"])
        if not optimizer:
            ap.error("from-torch needs --like or --optimizer")
        check_torch_equivalent(optimizer, args.like)
        write_ours(from_torch(torch.load(args.input), optimizer, like), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
