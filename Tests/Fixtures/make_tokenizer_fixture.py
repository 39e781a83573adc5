#!/usr/bin/env python3
"""Byte-level BPE tokenizer fixture for SmolLM2's vocabulary under three pre-tokenizers.

Writes
  Tests/Fixtures/tokenizer/smollm2.json

Reference: an independent tokenizer built with the Hugging Face `tokenizers` library (Rust) from the
vocabulary and merges stored in models/SmolLM2-135M-Instruct.Q4_1.gguf (tokenizer.ggml.tokens,
tokenizer.ggml.merges, tokenizer.ggml.token_type, read with gguf-py's GGUFReader): models.BPE with
byte-level pre-tokenization and a ByteLevel decoder. No special-token parsing (control tokens such as
"<|im_start|>" are plain text here, like llama.cpp with parse_special = false), no BOS, no added
prefix space. Three pre-tokenizer configurations, each applied to the same list of strings:
  "smollm"    Sequence([Digits(individual_digits=True), ByteLevel(add_prefix_space=False)])
              (SmolLM2's own tokenizer.json; llama.cpp pre-type "smollm": \\p{N} then the GPT-2 regex)
  "gpt2"      ByteLevel(add_prefix_space=False, use_regex=True) (the GPT-2 regex only)
  "llama-bpe" Sequence([Split(Regex(LLAMA3_PATTERN), "isolated"), ByteLevel(use_regex=False)])
BPE merges are always applied (ignore_merges = False, the tokenizers default).

Output JSON schema:
  {"source": str,
   "model": str (GGUF file name),
   "vocab_size": int, "merge_count": int,
   "configs": {"smollm" | "gpt2" | "llama-bpe": [{"text": str, "ids": [int, ...]}, ...]}}
Every config lists the same strings in the same order; decode(ids) == text holds for all of them.

Run from the repository root: /tmp/fixvenv/bin/python Tests/Fixtures/make_tokenizer_fixture.py
(needs gguf, numpy and tokenizers; reads the model from models/). Deterministic.
"""
import json
import os
import sys

import gguf
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
OUT_PATH = os.path.join(HERE, "tokenizer", "smollm2.json")

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

PRE_TOKENIZERS = {
    "smollm": lambda: pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
    "gpt2": lambda: pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    "llama-bpe": lambda: pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
}


def test_strings():
    """The fixed list of test strings (order matters: the fixture is compared index by index)."""
    s = [
        # empty, single characters, whitespace only
        "", "a", "Z", " ", "  ", "   ", "\t", "\n", "\r", "\r\n", "\n\n\n", " \n ", "\t\t", " \t \n",
        "0", "7", ".", "!", "'", "\"", "é", "中", "😀", "\ufffd", "\ue000",
        # ASCII sentences
        "Hello world", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
        "The capital of France is", "Once upon a time, there was a little girl.",
        "I saw a cat. It was black.", "What is 2 + 2?", "hello", " hello", "  hello", "hello ",
        "hello  ", "Hello World HELLO world hElLo", "A B C D E F G", "a.b.c.d", "end of line.\n",
        "Multiple   spaces   between   words", "Tabs\tbetween\twords", "trailing spaces   ",
        "   leading spaces", "line one\nline two\nline three", "para one\n\npara two",
        "windows\r\nline endings\r\n", "mixed \t\n whitespace \r\n\t end", "word\n\n\n\nword",
        "  \n  \n", "The year was 1984, and the temperature was -3.5 degrees.",
        # contractions and case
        "don't", "Don't", "DON'T", "I'LL", "I'll", "we've", "We've been there", "you're", "YOU'RE",
        "she's", "it's", "they'd", "I'm", "I'M", "can't won't shouldn't", "rock 'n' roll",
        "'s", "'t", "'re", "''", "O'Brien's dog", "the dogs' bones", "'quoted'", "\"double quoted\"",
        # accents and combining marks
        "café", "naïve", "Ærøskøbing", "façade", "São Paulo", "Zürich", "crème brûlée",
        "e\u0301", "cafe\u0301", "n\u0303", "Å", "A\u030a", "ﬁ ligature", "Straße", "İstanbul",
        "ŁÓDŹ łódź", "Ελληνικά", "Привет, мир!", "ПРИВЕТ", "Ўзбекистон",
        # CJK, Korean, Arabic, Hebrew, Hindi, Thai
        "中文", "日本語の文章", "我爱自然语言处理。", "東京は日本の首都です。",
        "カタカナ", "ひらがな",
        "한국어", "안녕하세요, 세계!", "مرحبا بالعالم", "العربية ١٢٣",
        "שלום עולם", "नमस्ते दुनिया",
        "हिन्दी १२३", "สวัสดีครับ", "中文 English 混合 text",
        "全角　スペース",
        # emoji
        "😀😃😄", "I love 🍕!", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷🇯🇵",
        "🇺🇸 flag", "❤️", "✓ done",
        "☃", "★☆", "👩‍💻 coding", "smile😀smile", "🙂 🙃",
        # code
        "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        "import numpy as np\nx = np.zeros((3, 4))\n",
        "for i in range(10):\n\tprint(i)\n",
        "class Foo:\n    def __init__(self):\n        self.x = 1\n",
        "#include <stdio.h>\nint main(void) {\n    printf(\"hi\\n\");\n    return 0;\n}\n",
        "if (a && b || !c) { x += 1; }", "x<<=2; y>>=3; z!==w;", "int* p = &x; **pp = NULL;",
        "{\"key\": \"value\", \"n\": [1, 2, 3], \"ok\": true}", "{\n  \"a\": 1,\n  \"b\": null\n}",
        "<html><body><p>Hi</p></body></html>", "SELECT * FROM users WHERE id = 42;",
        "fn main() -> Result<(), Box<dyn Error>> {", "let x: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];",
        "    indented four", "\tindented tab", "        eight spaces", "\t\t\tthree tabs",
        "a_b_c snake_case camelCase PascalCase kebab-case", "__init__", "$HOME/.config", "~/src/main.swift",
        "x = y ** 2 // 3 % 4", "λx. x + 1", "// comment\n/* block */", "# heading\n## sub",
        "- item one\n- item two\n", "1. first\n2. second\n", "| a | b |\n|---|---|",
        # digits and numbers
        "12345", "3.14159", "1,000,000", "2024-11-27", "0.000001", "1e-10", "-42", "+7",
        "123456789012345678901234567890", "v1.2.3", "10:30 AM", "50%", "$100.00", "€20", "£3.50",
        "1st 2nd 3rd 4th", "H2O CO2", "abc123def", "123abc", "0x1F", "ⅷ Ⅻ", "²³", "٣٤٥", "१२३",
        # SmolLM2 has no merges touching ASCII digits, so smollm and gpt2 differ only where a space
        # precedes a multi-byte \p{N} character (gpt2 keeps " ²" together, smollm isolates "²")
        "x ² + y ³", "about ½ cup", " ¹²³", "Ⅻ Ⅻ", " ١٢٣", "page १२", "٣ ٤ ٥", "¼ ¾",
        "phone: +1 (555) 123-4567", "9" * 40, "3 + 4 = 7", "a1b2c3", " 1 2 3 ", "12 345 678",
        # punctuation
        "...!!!???", "--->", "$$$", "!!!", "???", "...", "…", "—", "–", "«quotes»", "„German“",
        "(parentheses)", "[brackets]", "{braces}", "<angle>", "a/b\\c", "@#%^&*", "=====",
        "*****", "_____", "~~~~", "!?!?", "'''", "\"\"\"", ".,;:", "a--b", "-- em --", "¿Qué?", "¡Hola!",
        # URLs and emails
        "https://www.example.com/path?query=1&x=y#frag", "http://localhost:8080/",
        "user.name+tag@example.co.uk", "mailto:someone@example.org", "ftp://ftp.example.net/file.tar.gz",
        "www.github.com/huggingface/tokenizers", "C:\\Users\\Name\\file.txt",
        # long words
        "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "Donaudampfschifffahrtsgesellschaftskapitän", "a" * 100, "ab" * 60, "x" * 257,
        "antidisestablishmentarianism " * 3, "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
        # replacement and rare scalars
        "\ufffd\ufffd", "bad \ufffd byte", "\ue000\uf8ff private use", "\U0001f600 grin", "\U0010fffd",
        "\U000f0000", "\u200b zero width", "a\u200db", "\u00a0nbsp\u00a0", "\u2028line sep", "\u3000",
        "\ufeffBOM", "\u0000nul", "\u0007bell", "\x7f", "\u00ad soft hyphen", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "𝟙𝟚𝟛",
        # control tokens as plain text
        "<|endoftext|>", "<|im_start|>user\nHi<|im_end|>", "<repo_name>",
        # mixed
        "The price is $1,234.56 (approx. €1,100) as of 2024-01-01!",
        "She said, \"It's 5 o'clock somewhere,\" and left.",
        "Emoji🙂inside words and 中文inside too",
        "Tab\tand\tnewline\nand\r\ncarriage",
        "    def f(x):  # trailing comment   \n        return x  \n",
        "Numbers: 1, 22, 333, 4444, 55555, 666666.",
        "I'VE GOT IT, YOU'D SAY, WE'LL SEE",
        "ALL CAPS SENTENCE HERE.", "lowercase sentence here.", "MiXeD CaSe SeNtEnCe.",
        "Quotes: 'single' and \"double\" and `back`", "a\u0301\u0302\u0303 stacked marks",
        "Mr. Smith went to Washington D.C. on Jan. 5th.", "e.g. i.e. etc.", "U.S.A.", "re-entry",
        "Hello\n", "\nHello", "\n\nHello\n\n", " \t\n\r ", "x\ty", "1\n2\n3",
    ]
    return s


def load_vocab(path):
    reader = gguf.GGUFReader(path)
    tokens = reader.get_field("tokenizer.ggml.tokens").contents()
    merges = reader.get_field("tokenizer.ggml.merges").contents()
    token_type = reader.get_field("tokenizer.ggml.token_type").contents()
    assert reader.get_field("tokenizer.ggml.model").contents() == "gpt2"
    assert len(tokens) == len(token_type)
    vocab = {tok: i for i, tok in enumerate(tokens)}
    assert len(vocab) == len(tokens), "duplicate tokens"
    pairs = []
    for m in merges:
        parts = m.split(" ")
        assert len(parts) == 2, m
        pairs.append((parts[0], parts[1]))
    return vocab, pairs, token_type


def build(vocab, merges, config):
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=False, ignore_merges=False))
    tok.pre_tokenizer = PRE_TOKENIZERS[config]()
    tok.decoder = decoders.ByteLevel()
    return tok


def main():
    vocab, merges, token_type = load_vocab(MODEL)
    control = sum(1 for t in token_type if t == gguf.TokenType.CONTROL)
    print(f"vocab {len(vocab)} tokens ({control} control), {len(merges)} merges")
    strings = test_strings()
    assert len(strings) >= 220, len(strings)
    assert len(set(strings)) == len(strings), "duplicate test strings"

    configs = {}
    for name in PRE_TOKENIZERS:
        tok = build(vocab, merges, name)
        rows = []
        for text in strings:
            ids = tok.encode(text, add_special_tokens=False).ids
            back = tok.decode(ids, skip_special_tokens=False)
            assert back == text, (name, text, ids, back)
            rows.append({"text": text, "ids": ids})
        configs[name] = rows
        print(f"{name:10s} {len(rows)} strings, {sum(len(r['ids']) for r in rows)} tokens, round trip ok")

    def ids_of(name):
        return [r["ids"] for r in configs[name]]
    names = list(configs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            diff = sum(x != y for x, y in zip(ids_of(a), ids_of(b)))
            print(f"strings tokenized differently by {a} vs {b}: {diff}")
    examples = [r["text"] for r, g, l in zip(configs["smollm"], configs["gpt2"], configs["llama-bpe"])
                if not (r["ids"] == g["ids"] == l["ids"])]
    print("examples differing:", [e[:30] for e in examples[:8]])

    # Informational only: llama.cpp enables ignore_merges for its llama3 pre-type (as do Llama 3's
    # tokenizer.json files); count how often that would change the llama-bpe ids on this vocabulary.
    alt = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    alt.pre_tokenizer = PRE_TOKENIZERS["llama-bpe"]()
    changed = sum(alt.encode(t, add_special_tokens=False).ids != r["ids"]
                  for t, r in zip(strings, configs["llama-bpe"]))
    print(f"llama-bpe strings that would change with ignore_merges=True: {changed}")

    out = {
        "source": "Hugging Face tokenizers (models.BPE, byte-level) built from the GGUF vocabulary and "
                  "merges; made by Tests/Fixtures/make_tokenizer_fixture.py",
        "model": os.path.basename(MODEL),
        "vocab_size": len(vocab),
        "merge_count": len(merges),
        "configs": configs,
    }
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    tmp = OUT_PATH + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        # One {"text", "ids"} object per line keeps diffs readable.
        f.write("{\n")
        for key in ("source", "model", "vocab_size", "merge_count"):
            f.write(f"  {json.dumps(key)}: {json.dumps(out[key], ensure_ascii=False)},\n")
        f.write('  "configs": {\n')
        blocks = []
        for name, rows in configs.items():
            lines = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in rows)
            blocks.append(f"   {json.dumps(name)}: [\n{lines}\n   ]")
        f.write(",\n".join(blocks))
        f.write("\n  }\n}\n")
    with open(tmp, encoding="utf-8") as f:
        assert json.load(f) == out
    os.replace(tmp, OUT_PATH)
    print(f"wrote {OUT_PATH} ({os.path.getsize(OUT_PATH)} bytes, {len(strings)} strings x {len(configs)} configs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
