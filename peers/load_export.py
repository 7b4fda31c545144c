#!/usr/bin/python3
"""Loads an lstmlab export (`lstmlab export RUN --out FILE.safetensors`) into PyTorch and runs it.

The export's state_dict is loaded strictly (every name and shape must match) into
    nn.ModuleDict({"embedding": nn.Embedding(V, E), CELL: nn.LSTM | nn.GRU | nn.RNN(E, H, num_layers=L,
                   batch_first=True), "decoder": nn.Linear(H, V)})
with CELL the export's cell ("lstm", "gru" or "rnn"), as the README's snippet does. The model then reads the
given token ids from zero state and the logits of every position are printed as one JSON array [T][V].

Usage: /usr/bin/python3 load_export.py FILE.safetensors ID [ID ...]
Needs PyTorch (Debian: apt-get install python3-torch). Uses the `safetensors` package when installed, else
reads the file itself (Debian does not package safetensors; the format is 8 bytes of header length, a JSON
header, then the raw tensors).
"""
import json, struct, sys

import torch
import torch.nn as nn


def read_safetensors(path):
    """Returns (tensors by name, metadata) of a safetensors file of float32 tensors."""
    try:
        from safetensors import safe_open
        from safetensors.torch import load_file
        return load_file(path), safe_open(path, "pt").metadata()
    except ImportError:
        pass
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise SystemExit(f"{name}: dtype {info['dtype']}, this reader handles F32 only")
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + start:base + end]), dtype=torch.float32)
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    sd, meta = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    vocab = json.loads(meta["vocab"])["tokens"]
    cell = meta.get("cell", "lstm")
    V, E, H, L = len(vocab), cfg["embed"], cfg["hidden"], cfg["layers"]
    rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](E, H, num_layers=L, batch_first=True)
    m = nn.ModuleDict({"embedding": nn.Embedding(V, E), cell: rnn, "decoder": nn.Linear(H, V)})
    m.load_state_dict(sd)  # strict
    ids = torch.tensor([[int(x) for x in sys.argv[2:]]])
    with torch.no_grad():
        y, _ = m[cell](m["embedding"](ids))
        logits = m["decoder"](y)[0]
    json.dump(logits.tolist(), sys.stdout)
    print()


if __name__ == "__main__":
    main()
