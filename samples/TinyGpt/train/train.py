"""Trains the char-level GPT in ../model and records PyTorch's greedy continuation of a prompt.

    nice -n 10 /usr/bin/python3 samples/TinyGpt/train/train.py [--steps N] [--out FOLDER] [--reference-only]

The committed folder is the default run: 1500 steps of 16 x 32 tokens, one thread, seed 1337 (PyTorch 1.13,
Debian bookworm): 2.6 min of CPU, validation loss 4.12 -> 1.50. --reference-only rewrites reference.json only.

Text: the Book of Genesis, King James Version (1611, public domain), as Debian's `bible-kjv` package prints it
(`apt-get install bible-kjv`: the `bible` program over /usr/lib/bible.data from `bible-kjv-text`). One verse a
line, verse numbers and chapter headings dropped. Vocabulary: the sorted distinct characters of that text.

Model: nanoGPT-shaped. Token + position embeddings, N pre-LayerNorm blocks of causal self-attention
(nn.MultiheadAttention: one fused in_proj_weight [3C, C] holding Q, K and V, then out_proj) and an MLP
(c_fc [4C, C], exact erf GELU, c_proj [C, 4C]), a final LayerNorm, and lm_head tied to the token embedding.
No dropout. Trained on one thread from a fixed seed, so a rerun gives the same weights.

Output, a Hugging Face-style folder (../model):
  config.json                               sizes, LayerNorm eps, activation, the vocabulary
  model.safetensors.index.json              {"metadata": {"total_size": N}, "weight_map": {key: shard}}
  model-00001-of-00002.safetensors, model-00002-of-00002.safetensors
                                            bf16 weights; no lm_head.weight (tied to transformer.wte.weight)
  reference.json                            the prompt, PyTorch's greedy continuation (text and token ids) and
                                            the float32 logits of the last position at every generation step,
                                            computed by the model with the bf16 weights read back as float32
Debian ships no `safetensors` package, so the files are written (and read back) here by the format's rules.
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "..", "model")

CONFIG = {"n_layer": 2, "n_head": 4, "n_embd": 64, "block_size": 32}
SEED = 1337
BATCH = 16
LEARNING_RATE = 3e-3
PROMPT = "And Joseph said unto his brethren, "
NEW_TOKENS = 100
SHARDS = 2


# ---------------------------------------------------------------- text
def genesis():
    """The Book of Genesis (KJV) from Debian's bible-kjv: one verse a line, without verse numbers."""
    out = subprocess.run(["bible", "-l100000", "Genesis1:1-50:26"], check=True, capture_output=True, text=True).stdout
    verses = [m.group(1) for m in (re.match(r"^\s+\d+ (.*)$", line) for line in out.splitlines()) if m]
    assert len(verses) == 1533, f"Genesis has 1533 verses; bible printed {len(verses)}"
    return "\n".join(verses) + "\n"


# ---------------------------------------------------------------- model
class Block(nn.Module):
    def __init__(self, c, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c)  # eps 1e-5
        self.attn = nn.MultiheadAttention(c, n_head, batch_first=True)
        self.ln_2 = nn.LayerNorm(c)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(c, 4 * c), c_proj=nn.Linear(4 * c, c)))

    def forward(self, x, causal_mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=causal_mask, need_weights=False)[0]
        h = self.ln_2(x)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(h)))  # approximate="none": 0.5 x (1 + erf(x / sqrt 2))


class TinyGpt(nn.Module):
    def __init__(self, vocab_size, n_layer, n_head, n_embd, block_size):
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd),
        ))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        t = idx.shape[1]
        # True above the diagonal: position i may not attend to j > i.
        causal_mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for block in self.transformer.h:
            x = block(x, causal_mask)
        return self.lm_head(self.transformer.ln_f(x))


# ---------------------------------------------------------------- safetensors, by hand
# The reference serializer (huggingface/safetensors) sorts tensors by descending dtype alignment, then name; all of
# ours are BF16, so by name. Header: 8-byte little-endian length, compact JSON ("__metadata__" first), padded with
# spaces to a multiple of 8; then the data, contiguous, in header order.
def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in names:
        t = tensors[name].detach().to(torch.bfloat16).contiguous()
        data = t.view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    return offset


def read_safetensors_as_float32(path):
    """Reads a BF16 safetensors file back, each value widened to float32 (exact: bf16 is float32's top half)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "BF16"
        begin, end = entry["data_offsets"]
        bits = torch.frombuffer(bytearray(raw[8 + n + begin:8 + n + end]), dtype=torch.int16)
        out[name] = bits.view(torch.bfloat16).to(torch.float32).reshape(entry["shape"])
    return out


def save_folder(model, vocab, folder):
    os.makedirs(folder, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}  # tied: stored once, as wte
    keys = list(state)
    first = [k for k in keys if not k.startswith("transformer.h.") or int(k.split(".")[2]) < (CONFIG["n_layer"] + 1) // 2]
    shards = [first, [k for k in keys if k not in first]]
    weight_map, total = {}, 0
    for i, shard_keys in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{SHARDS:05d}.safetensors"
        total += write_safetensors(os.path.join(folder, name), {k: state[k] for k in shard_keys})
        weight_map.update({k: name for k in shard_keys})
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    write_json(folder, "model.safetensors.index.json", index)
    config = {
        "model_type": "tinygpt",
        "vocab_size": len(vocab),
        **CONFIG,
        "layer_norm_epsilon": 1e-5,
        "activation_function": "gelu",
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "vocab": vocab,
    }
    write_json(folder, "config.json", config)


def load_folder_as_float32(vocab_size, folder):
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        index = json.load(f)
    state = {}
    for shard in sorted(set(index["weight_map"].values())):
        state.update(read_safetensors_as_float32(os.path.join(folder, shard)))
    assert set(state) == set(index["weight_map"])
    model = TinyGpt(vocab_size, **CONFIG)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["lm_head.weight"] and not unexpected, (missing, unexpected)
    return model.float().eval()


def write_json(folder, name, value):
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


# ---------------------------------------------------------------- training and reference
def train(data, vocab_size, steps):
    torch.manual_seed(SEED)
    model = TinyGpt(vocab_size, **CONFIG)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=steps, pct_start=0.05)
    block = CONFIG["block_size"]

    def batch(source):
        starts = torch.randint(len(source) - block - 1, (BATCH,))
        x = torch.stack([source[s:s + block] for s in starts])
        y = torch.stack([source[s + 1:s + block + 1] for s in starts])
        return x, y

    started = time.time()
    for step in range(steps + 1):
        if step % 250 == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                val = sum(F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
                          for x, y in (batch(val_data) for _ in range(8))) / 8
            model.train()
            print(f"step {step:5d}  val loss {val:.4f}  {time.time() - started:6.1f} s", flush=True)
        if step == steps:
            break
        x, y = batch(train_data)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return model


def greedy_reference(model, vocab, folder):
    stoi = {c: i for i, c in enumerate(vocab)}
    ids = [stoi[c] for c in PROMPT]
    generated, step_logits, margins = [], [], []
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            context = torch.tensor([ids[-CONFIG["block_size"]:]])  # the last block_size tokens, as nanoGPT crops
            logits = model(context)[0, -1]
            top2 = torch.topk(logits, 2).values
            margins.append((top2[0] - top2[1]).item())
            next_id = int(torch.argmax(logits))
            ids.append(next_id)
            generated.append(next_id)
            step_logits.append([float(v) for v in logits.tolist()])
    reference = {
        "prompt": PROMPT,
        "prompt_ids": [stoi[c] for c in PROMPT],
        "continuation": "".join(vocab[i] for i in generated),
        "continuation_ids": generated,
        "min_top2_margin": min(margins),
        "note": "logits[s] are the float32 logits PyTorch " + torch.__version__ + " computed for the last position "
                "at generation step s, from the bf16 weights read back as float32; greedy = argmax.",
        "logits": step_logits,
    }
    with open(os.path.join(folder, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    return reference


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", default=MODEL_DIR, help="the model folder to write (default: ../model)")
    parser.add_argument("--reference-only", action="store_true", help="rewrite reference.json from the saved folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    text = genesis()
    vocab = "".join(sorted(set(text)))
    print(f"Genesis (KJV): {len(text)} characters, {len(vocab)} distinct", flush=True)
    data = torch.tensor([vocab.index(c) for c in text], dtype=torch.long)
    if not args.reference_only:
        save_folder(train(data, len(vocab), args.steps), vocab, args.out)
    reference = greedy_reference(load_folder_as_float32(len(vocab), args.out), vocab, args.out)
    print(PROMPT + reference["continuation"])
    print(f"smallest top-2 logit margin over the {NEW_TOKENS} steps: {reference['min_top2_margin']:.4g}")


if __name__ == "__main__":
    main()
