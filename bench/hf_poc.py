#!/usr/bin/env python3
"""The proof of concept's comparator: HF transformers, one `generate` per output, serially.

Gemma 3 12B's text shape (48 layers, hidden 3840, FFN 15360, 16/8 heads of 256, sliding window
1024 on 5 of 6 layers, vocab 262,144) in bf16 with random weights on the GPU; prompts of random
token ids with the same lengths rdic's bench measured for each output (read from its JSON), 300
new tokens each (min_new_tokens = max_new_tokens: fixed length, like `rdic bench`). Benchmark
tooling only (docs/performance.md); not part of rdic.

    python3 bench/hf_poc.py --rdic-json rdic-batched.json --out hf.json [--compile]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import transformers
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

POC_CONDITIONS = ["sequential", "prompted", "turn_based", "semantic"]


def prompt_lengths(rdic_json):
    """condition -> [prompt tokens of each output], from rdic bench's first run."""
    doc = json.load(open(rdic_json))
    out = {}
    for c in doc["conditions"]:
        if c["condition"] in POC_CONDITIONS:
            out[c["condition"]] = [o["n_context_tokens"] for o in c["runs"][0]["outputs"]]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rdic-json", required=True, help="rdic bench JSON (prompt lengths)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-new-tokens", type=int, default=300)
    ap.add_argument("--layers", type=int, default=48)
    ap.add_argument("--compile", action="store_true",
                    help="static cache + torch.compile (compiles once per prompt shape)")
    ap.add_argument("--compile-mode", default="reduce-overhead",
                    choices=["reduce-overhead", "default", "generate"],
                    help="with --compile: torch.compile(model.forward) in this mode (CUDA graphs "
                         "with reduce-overhead), or 'generate': static cache only and let "
                         "transformers' generate() compile its decoding step itself")
    ap.add_argument("--passes", type=int, default=1,
                    help="run the conditions this many times (later passes reuse compiled code)")
    ap.add_argument("--conditions", default=",".join(POC_CONDITIONS))
    args = ap.parse_args()

    lengths = prompt_lengths(args.rdic_json)
    conditions = [c for c in args.conditions.split(",") if c in lengths]
    cfg = Gemma3TextConfig(vocab_size=262144, hidden_size=3840, intermediate_size=15360,
                           num_hidden_layers=args.layers, num_attention_heads=16,
                           num_key_value_heads=8, head_dim=256, sliding_window=1024,
                           max_position_embeddings=131072)
    torch.manual_seed(0)
    t0 = time.time()
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = Gemma3ForCausalLM(cfg)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    init_s = time.time() - t0
    print(f"model: {n_params / 1e9:.2f} B params, bf16, built in {init_s:.1f} s, "
          f"attention {model.config._attn_implementation}", flush=True)
    gen_kwargs = dict(max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens,
                      do_sample=False, pad_token_id=0)
    if args.compile:
        gen_kwargs["cache_implementation"] = "static"
        if args.compile_mode != "generate":
            model.forward = torch.compile(model.forward, mode=args.compile_mode, fullgraph=False)

    def generate(n_prompt, n_new=None):
        ids = torch.randint(10, 200000, (1, n_prompt), device="cuda")
        kw = dict(gen_kwargs)
        if n_new is not None:
            kw["max_new_tokens"] = kw["min_new_tokens"] = n_new
        torch.cuda.synchronize()
        t = time.time()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), **kw)
        torch.cuda.synchronize()
        return time.time() - t, out.shape[1] - n_prompt

    warm_s, _ = generate(64, 8)
    print(f"warm-up {warm_s:.1f} s", flush=True)
    results = []
    for c in [c for _ in range(max(args.passes, 1)) for c in conditions]:
        outs = []
        t_cond = time.time()
        for n_prompt in lengths[c]:
            s, n_new = generate(n_prompt)
            outs.append({"n_prompt": n_prompt, "n_new": n_new, "seconds": s,
                         "tokens_per_s": n_new / s})
            print(f"  {c}: prompt {n_prompt}, {n_new} tokens in {s:.1f} s", flush=True)
        wall = time.time() - t_cond
        results.append({"condition": c, "wall_s": wall, "outputs": outs})
        print(f"{c}: {wall:.1f} s", flush=True)
    last = results[-len(conditions):] if conditions else []  # the last pass
    total = sum(r["wall_s"] for r in last)
    tps = [o["tokens_per_s"] for r in last for o in r["outputs"]]
    doc = {"format": "rdic.hf-poc/v1", "torch": torch.__version__,
           "transformers": transformers.__version__, "device": torch.cuda.get_device_name(0),
           "compile": args.compile, "compile_mode": args.compile_mode if args.compile else None,
           "passes": args.passes, "params": n_params, "layers": args.layers,
           "attention": model.config._attn_implementation, "init_s": init_s,
           "conditions": results, "total_s": total,
           "tokens_per_s_median": statistics.median(tps) if tps else 0}
    json.dump(doc, open(args.out, "w"), indent=1)
    print(f"total {len(last)} conditions (last pass): {total:.1f} s; median "
          f"{doc['tokens_per_s_median']:.1f} tokens/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
