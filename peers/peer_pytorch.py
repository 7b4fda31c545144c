#!/usr/bin/python3
"""Peer benchmark: the same character language models (LSTM, GRU, plain tanh RNN) in PyTorch, on the CPU.

Gives the side-by-side figure that lstmlab's own benchmark is compared with, on the same machine and corpus.

Set-up (Debian): apt-get install -y python3-torch libopenblas0-openmp
  (without an optimised BLAS Debian's torch uses the slow reference BLAS; the pthread OpenBLAS fights torch's OpenMP threads and is ~5x slower).
Usage: /usr/bin/python3 peer_pytorch.py CORPUS.txt [--cell lstm,gru,rnn] [--threads 2] [--steps 30] [--json]
Run it on an otherwise idle machine: with 2 OpenMP threads and one core busy elsewhere, its training speed collapses
(seen: 355 tokens/s instead of ~17k); `--threads 1` is the robust figure on a busy machine.

Model: Embedding(V, 64) -> LSTM | GRU | RNN(tanh)(64, H, layers, batch_first) -> Linear(H, V), as lstmlab's `cell`
config key chooses, at each of SHAPES (lstmlab bench's: 2x256 at 32x64 and 64x128, and the best15 preset's 2x512 at
64x128 with dropout 0.1) (--cell: one or more, comma-separated; default all three, as `lstmlab bench` measures).
Training step: forward, cross-entropy, backward, clip_grad_norm_(5), Adam(2e-3).
Figures: median over --steps timed steps after 3 warm-up steps; tokens/s = batch * seq_len / step time.
Generation: one token at a time with carried state, batch 1, temperature sampling.
"""
import argparse, json, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = [  # (layers, hidden, batch, seq_len, dropout, preset): lstmlab bench's shapes (internal/bench)
    (2, 256, 32, 64, 0.0, ""),
    (2, 256, 64, 128, 0.0, ""),
    (2, 512, 64, 128, 0.1, "best15"),  # the best15 preset (experiments/presets.go)
]


CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # nn.RNN's default nonlinearity is tanh


class CharRNN(nn.Module):
    def __init__(self, cell, vocab, emb, hidden, layers, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = CELLS[cell](emb, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0)
        self.drop = nn.Dropout(dropout)  # as lstmlab: on the embedding output, between layers, before the head
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.decoder(self.drop(h)), state


def train_throughput(cell, data, vocab, layers, hidden, batch, seq, steps, dropout=0.0):
    torch.manual_seed(0)
    model = CharRNN(cell, vocab, 64, hidden, layers, dropout)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(1)
    times = []
    for i in range(3 + steps):
        starts = torch.randint(0, len(data) - seq - 1, (batch,), generator=gen).tolist()
        x = torch.stack([data[s:s + seq] for s in starts])
        y = torch.stack([data[s + 1:s + seq + 1] for s in starts])
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return batch * seq / statistics.median(times)


@torch.no_grad()
def generate_throughput(cell, vocab, layers, hidden, n=1000):
    torch.manual_seed(0)
    model = CharRNN(cell, vocab, 64, hidden, layers).eval()
    tok, state = torch.zeros(1, 1, dtype=torch.long), None
    t0 = time.perf_counter()
    for _ in range(n):
        logits, state = model(tok, state)
        probs = F.softmax(logits[0, -1] / 0.8, dim=-1)
        tok = torch.multinomial(probs, 1).view(1, 1)
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--cell", default="lstm,gru,rnn", help="cells to measure, comma-separated: lstm, gru, rnn")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cells = [c.strip() for c in args.cell.split(",") if c.strip()]
    for c in cells:
        if c not in CELLS:
            ap.error(f"--cell {c!r}: want one of {', '.join(CELLS)}")
    torch.set_num_threads(args.threads)
    text = open(args.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    rows = []
    for cell in cells:
        for layers, hidden, batch, seq, dropout, preset in SHAPES:
            tps = train_throughput(cell, data, len(chars), layers, hidden, batch, seq, args.steps, dropout)
            rows.append(dict(cell=cell, kind="train", layers=layers, hidden=hidden, batch=batch, seq_len=seq, dropout=dropout,
                             preset=preset, tokens_per_s=round(tps)))
        gps = generate_throughput(cell, len(chars), 2, 256)
        rows.append(dict(cell=cell, kind="generate", layers=2, hidden=256, batch=1, seq_len=1, tokens_per_s=round(gps)))
    if args.json:
        json.dump(dict(torch=torch.__version__, threads=args.threads, vocab=len(chars), rows=rows), sys.stdout)
        print()
    else:
        print(f"torch {torch.__version__}, {args.threads} threads, vocabulary {len(chars)}")
        for r in rows:
            extra = f"  ({r['preset']}, dropout {r['dropout']})" if r.get("preset") else ""
            print(f"{r['cell']:4s} {r['kind']:9s} {r['layers']}x{r['hidden']} batch {r['batch']:3d} seq {r['seq_len']:3d}: {r['tokens_per_s']:8d} tokens/s{extra}")


if __name__ == "__main__":
    main()
